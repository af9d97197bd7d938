import { settingsOf } from "../accounts/index.js";
import type { Account } from "../current.js";
import { embed } from "../llm/index.js";
import type { LlmProvider } from "../providers/index.js";
import { NoProviderForModelError, resolveModel } from "../providers/resolve.js";
import type { Services } from "../services.js";
import type { Embedder } from "./embedder.js";
import { providerEmbedder } from "./provider-embedder.js";

/**
 * Learned once per provider and model: the length of the vectors it returns. Runs that start together share one
 * probe (a failed one is forgotten, and the next run asks again).
 */
const dimensions = new Map<string, Promise<number>>();

/**
 * The account's embedding model as an Embedder, through whichever enabled provider serves it; undefined when
 * none is set or none serves it (memory then stores text only and searches by words).
 */
export async function embedderFor(
  services: Services,
  account: Account,
  /** The account's enabledProviders when already read. */
  providers?: LlmProvider[],
): Promise<Embedder | undefined> {
  const model = settingsOf(account).embeddingModel;
  if (!model) return undefined;
  let choice: Awaited<ReturnType<typeof resolveModel>>;
  try {
    choice = await resolveModel(services, account, [model], providers);
  } catch (error) {
    if (error instanceof NoProviderForModelError) return undefined;
    throw error;
  }
  if (choice.model !== model) return undefined; // fell back to the chat default, which is no embedding model
  const key = `${choice.provider.id}:${model}`;
  let dimension = dimensions.get(key);
  if (!dimension) {
    dimension = embed({ provider: choice.provider, model, input: ["dimension probe"] }).then(
      (probe) => probe.embeddings[0]?.length ?? 0,
    );
    dimensions.set(key, dimension);
    dimension.catch(() => dimensions.delete(key));
  }
  return providerEmbedder(choice.provider, model, await dimension);
}
