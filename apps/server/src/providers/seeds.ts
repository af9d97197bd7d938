import { MOCK_PROVIDER_BASE_URL, providerCreateInput, SERVER_RELATIVE_BASE_PATH } from "@cybros/protocol";
import { and, eq, like, or, sql } from "drizzle-orm";
import { settingsOf, updateSettings } from "../accounts/index.js";
import type { Account } from "../current.js";
import { accounts, llmProviders } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import type { Services } from "../services.js";
import { createProvider } from "./index.js";

export const MOCK_PROVIDER_NAME = "Mock LLM";
export const MOCK_MODEL = "mock-model";
/** The mock's embedding model: memory finds by meaning out of the box, with no key. */
export const MOCK_EMBEDDING_MODEL = "mock-embedding";
const OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1";
/** OpenRouter's auto-router, a real model id, so an OPENROUTER_API_KEY alone is enough to chat. */
const OPENROUTER_DEFAULT_MODEL = "openrouter/auto";
/** Above the mock's 0, so a real provider wins for any model both allow. */
const ENV_PROVIDER_PRIORITY = 10;

/**
 * Seeds providers at every start (docs/decisions/0002-built-in-mock-provider-address.md). Each is created only when
 * missing and never updated afterwards, so the user's edits stand; the default model is set only by a creation.
 */
export async function seedProviders(services: Services, account: Account): Promise<void> {
  if (services.config.mockLlm) await seedMockProvider(services, account);
  const fromEnv = providerFromEnv(services);
  if (fromEnv) await seedEnvProvider(services, account, fromEnv);
}

async function seedMockProvider(services: Services, account: Account): Promise<void> {
  // A renamed mock still points at this server; a re-pointed one still has its name. Either counts as present.
  const [present] = await services.db
    .select({ id: llmProviders.id })
    .from(llmProviders)
    .where(
      and(
        eq(llmProviders.accountId, account.id),
        or(
          like(llmProviders.baseUrl, `${SERVER_RELATIVE_BASE_PATH}%`),
          eq(sql`lower(${llmProviders.name})`, MOCK_PROVIDER_NAME.toLowerCase()),
        ),
      ),
    )
    .limit(1);
  if (present) return;
  const created = await insertIfAbsent(services, account, {
    name: MOCK_PROVIDER_NAME,
    baseUrl: MOCK_PROVIDER_BASE_URL,
    modelAllowlist: [MOCK_MODEL, MOCK_EMBEDDING_MODEL],
    // The mock counts the images it receives, so tests can see a screenshot reach the model.
    imageModels: [MOCK_MODEL],
    priority: 0,
  });
  if (created && !settingsOf(account).defaultModel) await setDefaultModel(services, account, MOCK_MODEL);
  if (created && !settingsOf(account).embeddingModel) await setEmbeddingModel(services, account, MOCK_EMBEDDING_MODEL);
  if (created) services.log.info({ provider: MOCK_PROVIDER_NAME }, "seeded the built-in mock LLM provider");
}

interface EnvProvider {
  name: string;
  baseUrl: string;
  apiKey?: string;
  models: string[];
}

/**
 * The ROADMAP's .env backdoor: LLM_PROVIDER_NAME + LLM_PROVIDER_BASE_URL (+ LLM_PROVIDER_API_KEY,
 * LLM_PROVIDER_MODELS comma-separated), or OPENROUTER_API_KEY alone for OpenRouter. When the named provider
 * is OpenRouter itself, OPENROUTER_API_KEY serves as its key.
 */
function providerFromEnv(services: Services): EnvProvider | undefined {
  const env = services.config.env;
  const models = (env.LLM_PROVIDER_MODELS ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  if (env.LLM_PROVIDER_BASE_URL) {
    const baseUrl = env.LLM_PROVIDER_BASE_URL.trim().replace(/\/+$/, "");
    const isOpenRouter = baseUrl.startsWith("https://openrouter.ai/");
    const apiKey = env.LLM_PROVIDER_API_KEY || (isOpenRouter ? env.OPENROUTER_API_KEY : undefined);
    const name = env.LLM_PROVIDER_NAME?.trim() || (isOpenRouter ? "openrouter" : hostOf(baseUrl));
    if (!models.length && !isOpenRouter) {
      services.log.warn(
        { provider: name },
        "LLM_PROVIDER_BASE_URL is set but LLM_PROVIDER_MODELS is not: provider not seeded (a provider must list its models)",
      );
      return undefined;
    }
    return { name, baseUrl, apiKey, models: models.length ? models : [OPENROUTER_DEFAULT_MODEL] };
  }
  if (env.OPENROUTER_API_KEY) {
    return {
      name: env.LLM_PROVIDER_NAME?.trim() || "openrouter",
      baseUrl: OPENROUTER_BASE_URL,
      apiKey: env.OPENROUTER_API_KEY,
      models: models.length ? models : [OPENROUTER_DEFAULT_MODEL],
    };
  }
  return undefined;
}

async function seedEnvProvider(services: Services, account: Account, provider: EnvProvider): Promise<void> {
  const [present] = await services.db
    .select({ id: llmProviders.id })
    .from(llmProviders)
    .where(
      and(eq(llmProviders.accountId, account.id), eq(sql`lower(${llmProviders.name})`, provider.name.toLowerCase())),
    )
    .limit(1);
  if (present) return;
  const created = await insertIfAbsent(services, account, {
    name: provider.name,
    baseUrl: provider.baseUrl,
    apiKey: provider.apiKey,
    modelAllowlist: provider.models,
    priority: ENV_PROVIDER_PRIORITY,
  });
  if (!created) return;
  // The .env provider is why the user set those variables: it becomes the default, once, when it is created.
  await setDefaultModel(services, account, provider.models[0]!);
  services.log.info(
    { provider: provider.name, models: provider.models },
    "seeded an LLM provider from the environment",
  );
}

/**
 * Creates through the same schema and verb as the API, so a bad .env value is reported rather than stored, and
 * a concurrent start that created the same name first is no error. Answers whether this call created it.
 */
async function insertIfAbsent(
  services: Services,
  account: Account,
  values: {
    name: string;
    baseUrl: string;
    apiKey?: string;
    modelAllowlist: string[];
    imageModels?: string[];
    priority: number;
  },
): Promise<boolean> {
  const parsed = providerCreateInput.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    services.log.warn({ provider: values.name, problems }, "seeded LLM provider skipped: invalid values");
    return false;
  }
  try {
    await createProvider(services, account, parsed.data);
    return true;
  } catch (error) {
    if (error instanceof ValidationError && error.fields.name) return false;
    throw error;
  }
}

async function setDefaultModel(services: Services, account: Account, model: string): Promise<void> {
  // Re-read: an earlier seed step may have changed the settings since `account` was loaded.
  const [fresh] = await services.db.select().from(accounts).where(eq(accounts.id, account.id));
  await updateSettings(services.db, fresh ?? account, { defaultModel: model });
}

async function setEmbeddingModel(services: Services, account: Account, model: string): Promise<void> {
  const [fresh] = await services.db.select().from(accounts).where(eq(accounts.id, account.id));
  await updateSettings(services.db, fresh ?? account, { embeddingModel: model });
}

function hostOf(baseUrl: string): string {
  return URL.canParse(baseUrl) ? new URL(baseUrl).hostname : "provider";
}
