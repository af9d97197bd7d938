import {
  type ApiFormat,
  IMAGE_MODELS_NOT_ALLOWED,
  imageModelsNotAllowed,
  type ProviderCreate,
  type ProviderUpdate,
  type ProviderView,
} from "@cybros/protocol";
import { and, asc, desc, eq, ne, sql } from "drizzle-orm";
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
        headersEncrypted: sealHeaders(services, input.headers),
        modelAllowlist: input.modelAllowlist,
        imageModels: input.imageModels,
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
  const stored = await findProvider(services.db, account, id);
  const { apiKey, headers, ...fields } = input;
  if (fields.baseUrl !== undefined) requireSecretsRetyped(stored, fields.baseUrl, { apiKey, headers });
  const changes: Partial<typeof llmProviders.$inferInsert> = { ...fields, updatedAt: new Date() };
  const allowlist = fields.modelAllowlist ?? stored.modelAllowlist;
  if (fields.imageModels !== undefined) {
    const stray = imageModelsNotAllowed(fields.imageModels, allowlist);
    if (stray.length) throw new ValidationError({ imageModels: IMAGE_MODELS_NOT_ALLOWED + stray.join(", ") });
  } else if (fields.modelAllowlist !== undefined) {
    // A model taken off the allowlist is no longer one that accepts images.
    changes.imageModels = stored.imageModels.filter((model) => allowlist.includes(model));
  }
  // Omitted keeps the stored key; null (or blank, normalized to null by the schema) clears it.
  if (apiKey !== undefined) changes.apiKeyEncrypted = apiKey === null ? null : services.secrets.encrypt(apiKey);
  if (headers !== undefined) changes.headersEncrypted = sealHeaders(services, headers);
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

/**
 * A saved key and header values go only to the base URL they were saved with: a request naming another URL must
 * bring its own (else anyone able to edit the URL could send them to a host of their choosing).
 */
export function requireSecretsRetyped(
  provider: LlmProvider,
  baseUrl: string,
  given: { apiKey?: string | null; headers?: Record<string, string> },
): void {
  if (baseUrl === provider.baseUrl) return;
  const fields: Record<string, string> = {};
  if (provider.apiKeyEncrypted && given.apiKey === undefined)
    fields.apiKey = "must be typed again for the new base URL: a saved key is only sent to the URL it was saved for";
  if (Object.keys(provider.headersEncrypted).length > 0 && given.headers === undefined)
    fields.headers =
      "must be typed again for the new base URL: saved values are only sent to the URL they were saved for";
  if (Object.keys(fields).length > 0) throw new ValidationError(fields);
}

export class ProviderKeyUnreadableError extends AppError {
  constructor(provider: LlmProvider, what: "API key" | "header values" = "API key") {
    super(
      "provider_key_unreadable",
      `The ${what} stored for provider "${provider.name}" cannot be decrypted (was the master key changed?); enter ${what === "API key" ? "it" : "them"} again`,
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

function sealHeaders(services: Services, headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, services.secrets.encrypt(value)]));
}

/** The plaintext extra headers, for requests this server makes; like the key, never in a response or a log. */
export function headersOf(services: Services, provider: LlmProvider): Record<string, string> {
  try {
    return Object.fromEntries(
      Object.entries(provider.headersEncrypted).map(([name, sealed]) => [name, services.secrets.decrypt(sealed)]),
    );
  } catch (error) {
    if (error instanceof SecretDecryptionError) throw new ProviderKeyUnreadableError(provider, "header values");
    throw error;
  }
}

/** Marks the migration to sealed headers left on values it could not seal without the master key. */
const PLAIN_VALUE = "plain:";

/** Seals header values the migration moved in plain (marked "plain:"); at every start, before serving. */
export async function sealPlainHeaderValues(services: Services): Promise<void> {
  const rows = await services.db
    .select({ id: llmProviders.id, headersEncrypted: llmProviders.headersEncrypted })
    .from(llmProviders)
    .where(ne(llmProviders.headersEncrypted, sql`'{}'::jsonb`));
  for (const row of rows) {
    const entries = Object.entries(row.headersEncrypted);
    if (!entries.some(([, value]) => value.startsWith(PLAIN_VALUE))) continue;
    const sealed = entries.map(([name, value]) =>
      value.startsWith(PLAIN_VALUE) ? [name, services.secrets.encrypt(value.slice(PLAIN_VALUE.length))] : [name, value],
    );
    await services.db
      .update(llmProviders)
      .set({ headersEncrypted: Object.fromEntries(sealed) })
      .where(eq(llmProviders.id, row.id));
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
    headersSet: Object.keys(provider.headersEncrypted),
    modelAllowlist: provider.modelAllowlist,
    imageModels: provider.imageModels,
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
