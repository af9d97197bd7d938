import { embed, type LlmProviderTarget } from "../llm/index.js";
import type { Embedder } from "./embedder.js";

/**
 * An Embedder over an OpenAI-compatible provider's /embeddings (the mock LLM's "mock-embedding" included).
 * `dimension` is the model's own vector length (not sent: some models refuse `dimensions`); memory checks
 * every answer against it.
 */
export function providerEmbedder(target: LlmProviderTarget, model: string, dimension: number): Embedder {
  return {
    model,
    dimension,
    embed: async (texts) => (await embed({ provider: target, model, input: texts })).embeddings,
  };
}
