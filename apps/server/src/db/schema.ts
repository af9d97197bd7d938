import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

/** The single default account; `settings` holds LLM defaults and feature flags (accounts/settings.ts). */
export const accounts = pgTable("accounts", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const identities = pgTable(
  "identities",
  {
    id: uuid("id").primaryKey(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("identities_email_lower_idx").on(sql`lower(${t.email})`)],
);

export const users = pgTable("users", {
  id: uuid("id").primaryKey(),
  identityId: uuid("identity_id")
    .notNull()
    .references(() => identities.id, { onDelete: "cascade" }),
  accountId: uuid("account_id")
    .notNull()
    .references(() => accounts.id, { onDelete: "cascade" }),
  role: text("role", { enum: ["owner", "admin", "member"] })
    .notNull()
    .default("owner"),
  displayName: text("display_name"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Server-side sessions. The cookie carries a random token; only its SHA-256 is stored. */
export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey(),
    identityId: uuid("identity_id")
      .notNull()
      .references(() => identities.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    csrfToken: text("csrf_token").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("sessions_token_hash_idx").on(t.tokenHash), index("sessions_identity_idx").on(t.identityId)],
);

export const llmProviders = pgTable(
  "llm_providers",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    baseUrl: text("base_url").notNull(),
    /** AES-256-GCM ciphertext (secrets/index.ts); null when the provider needs no key. */
    apiKeyEncrypted: text("api_key_encrypted"),
    apiFormat: text("api_format").notNull().default("openai"),
    headers: jsonb("headers").$type<Record<string, string>>().notNull().default({}),
    modelAllowlist: jsonb("model_allowlist").$type<string[]>().notNull(),
    priority: integer("priority").notNull().default(0),
    enabled: boolean("enabled").notNull().default(true),
    lastCheckedAt: timestamp("last_checked_at", { withTimezone: true }),
    lastCheckResult: jsonb("last_check_result").$type<{ ok: boolean; message: string }>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("llm_providers_account_name_idx").on(t.accountId, sql`lower(${t.name})`)],
);

export const agentPrograms = pgTable(
  "agent_programs",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** "bundled:<dir>" for programs shipped in agents/, "copy:<dir>" for ones created from a profile. */
    profileSource: text("profile_source").notNull(),
    localPath: text("local_path").notNull(),
    bundled: boolean("bundled").notNull().default(false),
    args: jsonb("args").$type<Record<string, unknown>>().notNull().default({}),
    activePersona: text("active_persona"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("agent_programs_account_name_idx").on(t.accountId, sql`lower(${t.name})`)],
);
