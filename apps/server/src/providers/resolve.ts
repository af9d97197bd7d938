import type { ModelResolution, ModelResolutionList } from "@cybros/protocol";
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { settingsOf } from "../accounts/index.js";
import type { Account } from "../current.js";
import { builtOnce, type Db } from "../db/index.js";
import { conversations, llmProviders } from "../db/schema.js";
import { AppError } from "../errors.js";
import type { Services } from "../services.js";
import { reachableBaseUrl } from "./base-url.js";
import { apiKeyOf, headersOf, type LlmProvider, resolutionOrder } from "./index.js";

/** A provider ready to call, for server-side use only: it holds the plaintext key. */
export interface ResolvedProvider {
  id: string;
  name: string;
  /** Absolute, even for the built-in mock (see base-url.ts). */
  baseUrl: string;
  apiKey: string | null;
  headers: Record<string, string>;
  apiFormat: string;
}

export interface ModelChoice {
  provider: ResolvedProvider;
  model: string;
  /** "preferred" when one of the agent's models matched, "default" when the account's default model did. */
  source: "preferred" | "default";
  /** The provider lists the model among those that accept images: tool screenshots go into its prompts. */
  acceptsImages: boolean;
}

export class NoProviderForModelError extends AppError {
  constructor(readonly models: string[]) {
    super(
      "no_provider_for_model",
      models.length
        ? `No enabled provider allows any of these models: ${models.join(", ")}`
        : "No model to use: the agent prefers none and the account has no default model",
      409,
      { models },
    );
  }
}

/**
 * Enabled providers of an account, in resolution order (priority, then age, then id). By conversation, the read
 * needs no account in hand, so a run sends it together with the reads that start it.
 */
const enabledProvidersOf = builtOnce((db) => {
  const enabledIn = (ofAccount: SQL | undefined) =>
    db
      .select()
      .from(llmProviders)
      .where(and(ofAccount, eq(llmProviders.enabled, true)))
      .orderBy(...resolutionOrder);
  return {
    account: enabledIn(eq(llmProviders.accountId, sql.placeholder("id"))).prepare("enabled_providers_of_account"),
    conversation: enabledIn(
      inArray(
        llmProviders.accountId,
        db
          .select({ id: conversations.accountId })
          .from(conversations)
          .where(eq(conversations.id, sql.placeholder("id"))),
      ),
    ).prepare("enabled_providers_of_conversation"),
  };
});

export async function enabledProviders(
  db: Db,
  owner: { accountId: string } | { conversationId: string },
): Promise<LlmProvider[]> {
  const queries = enabledProvidersOf(db);
  return "accountId" in owner
    ? queries.account.execute({ id: owner.accountId })
    : queries.conversation.execute({ id: owner.conversationId });
}

function servingProvider(providers: LlmProvider[], model: string): LlmProvider | undefined {
  return providers.find((provider) => provider.modelAllowlist.includes(model));
}

/**
 * Picks the model and provider for a call: the first of the agent's preferred models that an enabled provider
 * allows (the highest-priority such provider), else the account's default model, else no_provider_for_model
 * naming every model tried. Touches no secret and no address: for "would this work?" questions.
 */
export async function chooseModel(
  db: Db,
  account: Account,
  prefer: string[],
): Promise<{ provider: LlmProvider; model: string; source: ModelChoice["source"] }> {
  return chooseFrom(await enabledProviders(db, { accountId: account.id }), account, prefer);
}

/** chooseModel over providers already read (enabled, in resolution order). */
function chooseFrom(
  providers: LlmProvider[],
  account: Account,
  prefer: string[],
): { provider: LlmProvider; model: string; source: ModelChoice["source"] } {
  const tried: string[] = [];
  for (const model of prefer) {
    tried.push(model);
    const provider = servingProvider(providers, model);
    if (provider) return { provider, model, source: "preferred" };
  }
  const fallback = settingsOf(account).defaultModel;
  if (fallback && !tried.includes(fallback)) {
    tried.push(fallback);
    const provider = servingProvider(providers, fallback);
    if (provider) return { provider, model: fallback, source: "default" };
  }
  throw new NoProviderForModelError(tried);
}

/** chooseModel, made ready to call: the provider's absolute URL and decrypted key (server-side use only). */
export async function resolveModel(
  services: Services,
  account: Account,
  prefer: string[],
  /** The account's enabledProviders when already read. */
  providers?: LlmProvider[],
): Promise<ModelChoice> {
  const choice = providers ? chooseFrom(providers, account, prefer) : await chooseModel(services.db, account, prefer);
  return {
    ...choice,
    provider: readyToCall(services, choice.provider),
    acceptsImages: choice.provider.imageModels.includes(choice.model),
  };
}

/** A stored provider made ready to call: its absolute URL and decrypted key (server-side use only). */
export function readyToCall(services: Services, provider: LlmProvider): ResolvedProvider {
  return {
    id: provider.id,
    name: provider.name,
    baseUrl: reachableBaseUrl(services, provider.baseUrl),
    apiKey: apiKeyOf(services, provider),
    headers: headersOf(services, provider),
    apiFormat: provider.apiFormat,
  };
}

/** For each model, the provider that would serve it now (no default-model fallback), and the same for the default. */
export async function resolutionsFor(db: Db, account: Account, models: string[]): Promise<ModelResolutionList> {
  const providers = await enabledProviders(db, { accountId: account.id });
  const resolve = (model: string): ModelResolution => {
    const provider = servingProvider(providers, model);
    return { model, provider: provider ? { id: provider.id, name: provider.name } : null };
  };
  const defaultModel = settingsOf(account).defaultModel;
  return { resolutions: models.map(resolve), defaultModel: defaultModel ? resolve(defaultModel) : null };
}
