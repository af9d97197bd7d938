import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { MAX_REQUEST_BODY_BYTES } from "../config.js";
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

/** Bodies past the API's limit get the 413 OpenAI would send, before any of them is read into memory. */
const mockBodyLimit = bodyLimit({
  maxSize: MAX_REQUEST_BODY_BYTES,
  onError: (c) =>
    c.json(
      openAiError(`The request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes.`, "invalid_request_error"),
      413,
    ),
});

/**
 * The OpenAI-compatible mock's provider API, mounted at /mock_llm/v1 (no key: it serves tests and keyless
 * installs). docs/mock-llm.md describes the directives.
 */
export function mockLlmRoutes(mock: MockLlm) {
  const presentModel = (id: string) => ({ id, object: "model", created: MODELS_CREATED, owned_by: "cybros-mock" });

  return new Hono()
    .post("/chat/completions", mockBodyLimit, (c) => chatCompletion(mock, c))
    .get("/models", (c) => c.json({ object: "list", data: MOCK_MODELS.map(presentModel) }))
    .get("/models/:id", (c) => {
      const id = c.req.param("id");
      if (!(MOCK_MODELS as readonly string[]).includes(id)) {
        return c.json(openAiError(`The model '${id}' does not exist`, "invalid_request_error", "model_not_found"), 404);
      }
      return c.json(presentModel(id));
    })
    .post("/embeddings", mockBodyLimit, async (c) => {
      const read = await readOpenAiBody(c, embeddingsRequest);
      if (!read.ok) return c.json(read.error, read.status);
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
    });
}

/**
 * The mock's request log and scenario registry, mounted beside its provider API. The log holds the prompts of
 * the owner's chats, so the server passes `access` that requires a session; a standalone mock (tests, bench) has no
 * accounts and mounts them openly on 127.0.0.1.
 */
export function mockLlmInspectionRoutes(mock: MockLlm, access: MiddlewareHandler = (_c, next) => next()) {
  return new Hono()
    .get("/requests", access, (c) => {
      const limit = Math.max(1, Math.min(Number(c.req.query("limit")) || 50, 1000));
      return c.json({ object: "list", data: mock.requests().slice(-limit).map(presentRecord) });
    })
    .delete("/requests", access, (c) => {
      mock.clearRequests();
      return c.body(null, 204);
    })
    .get("/scenarios", access, (c) => c.json({ object: "list", data: mock.scenarioNames() }))
    .post("/scenarios", access, mockBodyLimit, async (c) => {
      const read = await readOpenAiBody(c, scenarioInput);
      if (!read.ok) return c.json(read.error, read.status);
      try {
        return c.json(mock.defineScenario(read.value), 201);
      } catch (error) {
        if (error instanceof DirectiveError) return c.json(openAiError(error.message), 400);
        throw error;
      }
    })
    .delete("/scenarios/:name", access, (c) => {
      if (!mock.removeScenario(c.req.param("name"))) {
        return c.json(
          openAiError(`no scenario named "${c.req.param("name")}"`, "invalid_request_error", "not_found"),
          404,
        );
      }
      return c.body(null, 204);
    });
}
