import { Hono } from "hono";
import { z } from "zod";
import { chatCompletion, readOpenAiBody } from "./chat.js";
import { DEFAULT_EMBEDDING_DIMENSIONS, embeddingToBase64, embedText, MAX_EMBEDDING_DIMENSIONS } from "./embeddings.js";
import { MOCK_MODELS, type MockLlm, presentRecord } from "./index.js";
import { tokensFromChars } from "./prompt-cache.js";
import { errorReply, openAiError } from "./replies.js";
import { DirectiveError, parseDirective, scenarioInput, splitDirective } from "./steps.js";

/** A fixed creation time keeps GET /models byte-for-byte stable. */
const MODELS_CREATED = 1_700_000_000;

const embeddingsRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
  dimensions: z.number().int().min(1).max(MAX_EMBEDDING_DIMENSIONS).nullish(),
  encoding_format: z.enum(["float", "base64"]).nullish(),
});

/**
 * The OpenAI-compatible mock, mounted at /mock_llm/v1 (no auth: it serves tests and keyless installs).
 * docs/mock-llm.md describes the directives, scenarios and request log.
 */
export function mockLlmRoutes(mock: MockLlm) {
  const presentModel = (id: string) => ({ id, object: "model", created: MODELS_CREATED, owned_by: "cybros-mock" });

  return new Hono()
    .post("/chat/completions", (c) => chatCompletion(mock, c))
    .get("/models", (c) => c.json({ object: "list", data: MOCK_MODELS.map(presentModel) }))
    .get("/models/:id", (c) => {
      const id = c.req.param("id");
      if (!(MOCK_MODELS as readonly string[]).includes(id)) {
        return c.json(openAiError(`The model '${id}' does not exist`, "invalid_request_error", "model_not_found"), 404);
      }
      return c.json(presentModel(id));
    })
    .post("/embeddings", async (c) => {
      const read = await readOpenAiBody(c, embeddingsRequest);
      if (!read.ok) return c.json(read.error, 400);
      const { model, input, dimensions, encoding_format } = read.value;
      const inputs = typeof input === "string" ? [input] : input;
      const tokens = inputs.reduce((n, text) => n + tokensFromChars(text.length), 0);
      // Only `/mock error ...` means something here: it lets tests reach every failure path of embeddings.
      const { line, body } = splitDirective(inputs[0]!);
      if (line) {
        try {
          const step = parseDirective(line, body);
          if (step.reply === "error") {
            const reply = errorReply(step, { promptTokens: tokens, cachedTokens: 0 });
            if (reply.retryAfter !== undefined) c.header("retry-after", String(reply.retryAfter));
            return c.json(reply.body, reply.status as 400);
          }
        } catch (error) {
          if (!(error instanceof DirectiveError)) throw error;
          return c.json(
            openAiError(`mock directive: ${error.message}`, "invalid_request_error", "mock_directive"),
            400,
          );
        }
      }
      const data = inputs.map((text, index) => {
        const vector = embedText(text, dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS);
        return {
          object: "embedding",
          index,
          embedding: encoding_format === "base64" ? embeddingToBase64(vector) : vector,
        };
      });
      return c.json({ object: "list", data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    })
    .get("/requests", (c) => {
      const limit = Math.max(1, Math.min(Number(c.req.query("limit")) || 50, 1000));
      return c.json({ object: "list", data: mock.requests().slice(-limit).map(presentRecord) });
    })
    .delete("/requests", (c) => {
      mock.clearRequests();
      return c.body(null, 204);
    })
    .get("/scenarios", (c) => c.json({ object: "list", data: mock.scenarioNames() }))
    .post("/scenarios", async (c) => {
      const read = await readOpenAiBody(c, scenarioInput);
      if (!read.ok) return c.json(read.error, 400);
      try {
        return c.json(mock.defineScenario(read.value), 201);
      } catch (error) {
        if (error instanceof DirectiveError) return c.json(openAiError(error.message), 400);
        throw error;
      }
    })
    .delete("/scenarios/:name", (c) => {
      if (!mock.removeScenario(c.req.param("name"))) {
        return c.json(
          openAiError(`no scenario named "${c.req.param("name")}"`, "invalid_request_error", "not_found"),
          404,
        );
      }
      return c.body(null, 204);
    });
}
