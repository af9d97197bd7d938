import type { ApiFormat, ProviderCreate, ProviderUpdate, ProviderView } from "@cybros/protocol";
import { and, asc, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Account } from "../current.js";
import { isUniqueViolation } from "../db/errors.js";
import type { Db } from "../db/index.js";
import { llmProviders } from "../db/schema.js";
import { AppError, NotFoundError, ValidationError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import { SecretDecryptionError } from "../secrets/index.js";
import type { Services } from "../services.js";

export type LlmProvider = typeof llmProviders.$inferSelect;

const NAME_INDEX = "llm_providers_account_name_idx";

/** The order resolution walks: highest priority first, then the oldest, then the id so ties never flip. */
export const resolutionOrder = [desc(llmProviders.priority), asc(llmProviders.createdAt), asc(llmProviders.id)];

export async function listProviders(db: Db, account: Account): Promise<LlmProvider[]> {
  return db
    .select()
    .from(llmProviders)
    .where(eq(llmProviders.accountId, account.id))
    .orderBy(...resolutionOrder);
}

/** A provider of this account; any other id (malformed, deleted, another account's) is a 404. */
export async function findProvider(db: Db, account: Account, id: string): Promise<LlmProvider> {
  if (!z.uuid().safeParse(id).success) throw new NotFoundError("Provider");
  const [row] = await db
    .select()
    .from(llmProviders)
    .where(and(eq(llmProviders.id, id), eq(llmProviders.accountId, account.id)));
  if (!row) throw new NotFoundError("Provider");
  return row;
}

// The unique index decides name clashes, so two simultaneous creates cannot both win a pre-check.
async function nameClashAsValidation<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error, NAME_INDEX))
      throw new ValidationError({ name: "is already used by another provider" });
    throw error;
  }
}

export async function createProvider(
  services: Services,
  account: Account,
  input: ProviderCreate,
): Promise<LlmProvider> {
  const [row] = await nameClashAsValidation(
    services.db
      .insert(llmProviders)
      .values({
        id: uuidv7(),
        accountId: account.id,
        name: input.name,
        baseUrl: input.baseUrl,
        apiKeyEncrypted: input.apiKey ? services.secrets.encrypt(input.apiKey) : null,
        apiFormat: input.apiFormat,
        headers: input.headers,
        modelAllowlist: input.modelAllowlist,
        priority: input.priority,
        enabled: input.enabled,
      })
      .returning(),
  );
  return row!;
}

export async function updateProvider(
  services: Services,
  account: Account,
  id: string,
  input: ProviderUpdate,
): Promise<LlmProvider> {
  await findProvider(services.db, account, id);
  const { apiKey, ...fields } = input;
  const changes: Partial<typeof llmProviders.$inferInsert> = { ...fields, updatedAt: new Date() };
  // Omitted keeps the stored key; null (or blank, normalized to null by the schema) clears it.
  if (apiKey !== undefined) changes.apiKeyEncrypted = apiKey === null ? null : services.secrets.encrypt(apiKey);
  const [row] = await nameClashAsValidation(
    services.db
      .update(llmProviders)
      .set(changes)
      .where(and(eq(llmProviders.id, id), eq(llmProviders.accountId, account.id)))
      .returning(),
  );
  if (!row) throw new NotFoundError("Provider");
  return row;
}

export async function deleteProvider(db: Db, account: Account, id: string): Promise<void> {
  const provider = await findProvider(db, account, id);
  await db.delete(llmProviders).where(eq(llmProviders.id, provider.id));
}

export async function recordConnectionCheck(
  db: Db,
  provider: LlmProvider,
  result: { ok: boolean; message: string },
): Promise<LlmProvider> {
  const [row] = await db
    .update(llmProviders)
    .set({ lastCheckedAt: new Date(), lastCheckResult: result })
    .where(eq(llmProviders.id, provider.id))
    .returning();
  if (!row) throw new NotFoundError("Provider");
  return row;
}

export class ProviderKeyUnreadableError extends AppError {
  constructor(provider: LlmProvider) {
    super(
      "provider_key_unreadable",
      `The API key stored for provider "${provider.name}" cannot be decrypted (was the master key changed?); enter it again`,
      409,
      { providerId: provider.id },
    );
  }
}

/** The plaintext key, for requests this server makes. Never put it in a response or a log line. */
export function apiKeyOf(services: Services, provider: LlmProvider): string | null {
  if (!provider.apiKeyEncrypted) return null;
  try {
    return services.secrets.decrypt(provider.apiKeyEncrypted);
  } catch (error) {
    if (error instanceof SecretDecryptionError) throw new ProviderKeyUnreadableError(provider);
    throw error;
  }
}

export function presentProvider(provider: LlmProvider): ProviderView {
  return {
    id: provider.id,
    name: provider.name,
    baseUrl: provider.baseUrl,
    // Writes go through the protocol schema, so the column only ever holds a known format.
    apiFormat: provider.apiFormat as ApiFormat,
    apiKeySet: provider.apiKeyEncrypted !== null,
    headers: provider.headers,
    modelAllowlist: provider.modelAllowlist,
    priority: provider.priority,
    enabled: provider.enabled,
    lastCheck:
      provider.lastCheckedAt && provider.lastCheckResult
        ? { ...provider.lastCheckResult, checkedAt: provider.lastCheckedAt.toISOString() }
        : null,
    createdAt: provider.createdAt.toISOString(),
    updatedAt: provider.updatedAt.toISOString(),
  };
}
