import { LlmError } from "./errors.js";
import type { LlmProviderTarget } from "./provider.js";
import { postToProvider, readJsonBody } from "./provider-http.js";

/** One `POST /embeddings` in the OpenAI wire format: one vector per input, in the inputs' order. */
export async function requestEmbeddings(
  request: { provider: LlmProviderTarget; model: string; input: readonly string[]; dimensions?: number },
  signal: AbortSignal,
): Promise<{ embeddings: number[][]; tokens: number | null }> {
  const response = await postToProvider(
    request.provider,
    "/embeddings",
    { model: request.model, input: request.input, encoding_format: "float", dimensions: request.dimensions },
    signal,
  );
  const answer = (await readJsonBody(response, signal)) as {
    data?: { index?: unknown; embedding?: unknown }[];
    usage?: { prompt_tokens?: unknown } | null;
  };
  if (!Array.isArray(answer?.data)) throw malformed("`data` is not a list");
  const embeddings: number[][] = new Array(request.input.length);
  for (const [position, item] of answer.data.entries()) {
    const index = typeof item?.index === "number" ? item.index : position;
    if (!Number.isInteger(index) || index < 0 || index >= request.input.length) throw malformed("an unknown `index`");
    const vector = item.embedding;
    if (!Array.isArray(vector) || !vector.every((x) => typeof x === "number")) {
      throw malformed("an `embedding` that is not a list of numbers");
    }
    embeddings[index] = vector;
  }
  if (embeddings.length !== answer.data.length || embeddings.includes(undefined as never)) {
    throw malformed(`${answer.data.length} embeddings for ${request.input.length} inputs`);
  }
  const tokens = answer.usage?.prompt_tokens;
  return { embeddings, tokens: typeof tokens === "number" ? tokens : null };
}

function malformed(what: string): LlmError {
  return new LlmError("invalid_response", `The provider sent a malformed response: ${what}`);
}
