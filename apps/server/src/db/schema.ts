import {
  artifactContentTypes,
  directiveStates,
  facilityKinds,
  outputStreams,
  stepKinds,
  stepStates,
  territoryStatuses,
} from "@cybros/protocol";
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

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
    /** Extra request headers: name → value sealed like the key (some APIs take keys in headers). */
    headersEncrypted: jsonb("headers_encrypted").$type<Record<string, string>>().notNull().default({}),
    modelAllowlist: jsonb("model_allowlist").$type<string[]>().notNull(),
    /** The allowed models that accept images in their prompts (tool screenshots are given to them). */
    imageModels: jsonb("image_models").$type<string[]>().notNull().default([]),
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
    /** Set when the person deleted the agent: its folder is gone, its conversations still show its name. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    /** The agent's default workspace for coding tools, when it was told to keep one. */
    workspaceFacilityId: uuid("workspace_facility_id").references((): AnyPgColumn => facilities.id, {
      onDelete: "set null",
    }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("agent_programs_account_name_idx")
      .on(t.accountId, sql`lower(${t.name})`)
      .where(sql`${t.deletedAt} is null`),
  ],
);

// ── Conversations ───────────────────────────────────────────────────────────────────────────────────────────
// See conversations/index.ts for the model: turns order everything; nodes are the graph's vertices; each node's
// `parent_id` is its causal edge within a turn and `version_of_id` the lineage edge to the node it replaced.

export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    agentProgramId: uuid("agent_program_id")
      .notNull()
      .references(() => agentPrograms.id, { onDelete: "restrict" }),
    title: text("title").notNull(),
    /**
     * Who wrote the title: "auto" (the placeholder or the first message's words, awaiting a generated one),
     * "generated" (after the first reply) or "person" (renamed; never overwritten).
     */
    titleSource: text("title_source").$type<"auto" | "generated" | "person">().notNull().default("auto"),
    /** The last event cursor handed out; events take seqs from here under this row's lock. */
    lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
    /** The last turn number handed out. */
    lastTurnSeq: integer("last_turn_seq").notNull().default(0),
    archivedAt: timestamp("archived_at", { withTimezone: true }),
    /** When the last message was sent (creation until then): lists sort by it, so renames never reorder them. */
    lastMessageAt: timestamp("last_message_at", { withTimezone: true }).notNull().defaultNow(),
    /** Where coding tools run in this conversation (workspace_set); unset → the agent's, then a scratch one. */
    workspaceFacilityId: uuid("workspace_facility_id").references((): AnyPgColumn => facilities.id, {
      onDelete: "set null",
    }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("conversations_user_last_message_idx").on(t.userId, t.lastMessageAt),
    index("conversations_title_search_idx").using("gin", sql`to_tsvector('simple', ${t.title})`),
  ],
);

/** One user exchange: the user message and everything produced in answer to it. */
export const turns = pgTable(
  "turns",
  {
    id: uuid("id").primaryKey(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    /** Volatile context fixed when the turn began (time, memory hits), replayed verbatim so prompts stay cacheable. */
    context: jsonb("context").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("turns_conversation_seq_idx").on(t.conversationId, t.seq)],
);

export const nodeKinds = [
  "user_message",
  "agent_message",
  "character_message",
  "task",
  "summary",
  "system_message",
  "developer_message",
] as const;
export const nodeStates = ["pending", "running", "finished", "errored", "stopped", "skipped"] as const;

export const nodes = pgTable(
  "nodes",
  {
    id: uuid("id").primaryKey(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    turnId: uuid("turn_id")
      .notNull()
      .references(() => turns.id, { onDelete: "cascade" }),
    turnSeq: integer("turn_seq").notNull(),
    /** Order within the turn. */
    position: integer("position").notNull(),
    kind: text("kind", { enum: nodeKinds }).notNull(),
    state: text("state", { enum: nodeStates }).notNull(),
    parentId: uuid("parent_id"),
    versionOfId: uuid("version_of_id"),
    runId: uuid("run_id"),
    /** User input, agent output text, summary text. */
    content: text("content").notNull().default(""),
    /** Kind-specific data: an agent message's tool calls and finish reason; a task's call, result, error. */
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    error: jsonb("error").$type<{ code: string; message: string; status?: number }>(),
    /** Set when a newer version replaced this node: it leaves the transcript and every later prompt. */
    supersededAt: timestamp("superseded_at", { withTimezone: true }),
    createdAt: createdAt(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    index("nodes_conversation_order_idx").on(t.conversationId, t.turnSeq, t.position),
    index("nodes_run_idx").on(t.runId),
    // The context window's "newest summary older than the window" is one probe, however long the history.
    index("nodes_summary_idx").on(t.conversationId, t.turnSeq, t.position).where(sql`${t.kind} = 'summary'`),
  ],
);

export const runStates = ["queued", "running", "succeeded", "failed", "canceled"] as const;

export const conversationRuns = pgTable(
  "conversation_runs",
  {
    id: uuid("id").primaryKey(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    turnId: uuid("turn_id")
      .notNull()
      .references(() => turns.id, { onDelete: "cascade" }),
    turnSeq: integer("turn_seq").notNull(),
    state: text("state", { enum: runStates }).notNull(),
    /** The node being produced right now: tracked explicitly, never inferred from the latest leaf. */
    activeNodeId: uuid("active_node_id"),
    retryOfId: uuid("retry_of_id"),
    error: jsonb("error").$type<{
      code: string;
      message: string;
      status?: number;
      details?: Record<string, unknown>;
    }>(),
    /** Which process holds the run's lease ("host:pid:boot"); null while nobody does (queued, waiting). */
    workerId: text("worker_id"),
    /** Until when that process may advance the run; once past, any process may claim it (runs/store.ts). */
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    cancelRequestedAt: timestamp("cancel_requested_at", { withTimezone: true }),
    queuedAt: timestamp("queued_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    index("conversation_runs_queue_idx").on(t.conversationId, t.state, t.queuedAt),
    // At most one running run per conversation, enforced by the database.
    uniqueIndex("conversation_runs_one_running_idx").on(t.conversationId).where(sql`${t.state} = 'running'`),
    index("conversation_runs_lease_idx").on(t.leaseExpiresAt).where(sql`${t.state} = 'running'`),
  ],
);

/**
 * pending → running → succeeded | failed | canceled | interrupted. A tool call that waits on something is
 * `waiting` beside its await step, which is `waiting` until resolveWait; then the tool call is pending again.
 */
/** A run as an ordered list of steps: what it did, what it does now, what it waits on (runs/store.ts). */
export const runSteps = pgTable(
  "run_steps",
  {
    id: uuid("id").primaryKey(),
    runId: uuid("run_id")
      .notNull()
      .references(() => conversationRuns.id, { onDelete: "cascade" }),
    /** Order of creation within the run. */
    ordinal: integer("ordinal").notNull(),
    kind: text("kind", { enum: stepKinds }).notNull(),
    state: text("state", { enum: stepStates }).notNull(),
    attempt: integer("attempt").notNull().default(1),
    /** The node the step writes (an agent message, a task); the text and results live there. */
    nodeId: uuid("node_id"),
    input: jsonb("input").$type<Record<string, unknown>>().notNull().default({}),
    output: jsonb("output").$type<Record<string, unknown>>(),
    /** What a waiting step waits on ("approval:<step id>", "run:<run id>", …): resolveWait finds it by this. */
    waitKey: text("wait_key"),
    createdAt: createdAt(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("run_steps_run_ordinal_idx").on(t.runId, t.ordinal),
    index("run_steps_waiting_idx").on(t.waitKey).where(sql`${t.state} = 'waiting'`),
  ],
);

/** The durable event log behind SSE resume: `seq` is the per-conversation cursor. */
export const conversationEvents = pgTable(
  "conversation_events",
  {
    id: uuid("id").primaryKey(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    turnId: uuid("turn_id"),
    runId: uuid("run_id"),
    nodeId: uuid("node_id"),
    kind: text("kind").notNull(),
    text: text("text"),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("conversation_events_cursor_idx").on(t.conversationId, t.seq),
    index("conversation_events_node_idx").on(t.nodeId, t.kind),
  ],
);

/** One row per provider call: what was sent (section hashes), what it cost, how fast it was. */
export const llmCalls = pgTable(
  "llm_calls",
  {
    id: uuid("id").primaryKey(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    runId: uuid("run_id").notNull(),
    nodeId: uuid("node_id").notNull(),
    agentProgramId: uuid("agent_program_id"),
    agentCommit: text("agent_commit"),
    providerId: uuid("provider_id"),
    providerName: text("provider_name").notNull(),
    model: text("model").notNull(),
    sections: jsonb("sections").$type<{ name: string; hash: string; tokens: number; stable: boolean }[]>().notNull(),
    messageCount: integer("message_count").notNull(),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    cachedTokens: integer("cached_tokens"),
    ttftMs: integer("ttft_ms"),
    durationMs: integer("duration_ms"),
    finishReason: text("finish_reason"),
    error: jsonb("error").$type<{ code: string; message: string; status?: number }>(),
    createdAt: createdAt(),
  },
  (t) => [index("llm_calls_run_idx").on(t.runId), index("llm_calls_conversation_idx").on(t.conversationId)],
);

/** Postgres full-text document; only ever written by the database (a generated column). */
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/**
 * What an agent program remembers (memory/index.ts). Scoped to the agent program: no verb reads across programs.
 * Embeddings live in agent_memory_embeddings, created at start only when pgvector exists (memory/vector.ts).
 */
export const agentMemoryEntries = pgTable(
  "agent_memory_entries",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    agentProgramId: uuid("agent_program_id")
      .notNull()
      .references(() => agentPrograms.id, { onDelete: "cascade" }),
    /** Where it was learned; the memory outlives the conversation (like ChatGPT's memory). */
    conversationId: uuid("conversation_id").references(() => conversations.id, { onDelete: "set null" }),
    content: text("content").notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    searchVector: tsvector("search_vector").notNull().generatedAlwaysAs(sql`to_tsvector('english', content)`),
    createdAt: createdAt(),
  },
  (t) => [
    index("agent_memory_entries_scope_idx").on(t.accountId, t.agentProgramId, t.id),
    index("agent_memory_entries_search_idx").using("gin", t.searchVector),
    index("agent_memory_entries_metadata_idx").using("gin", sql`${t.metadata} jsonb_path_ops`),
  ],
);

/** Account-level secrets by name (e.g. a web search API key), AES-GCM sealed by services.secrets; never presented. */
export const accountSecrets = pgTable(
  "account_secrets",
  {
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    valueEncrypted: text("value_encrypted").notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.name] })],
);

const bytea = customType<{ data: Buffer }>({ dataType: () => "bytea" });

/** Single-use tokens that let a machine enroll as a territory (conduits/enrollment.ts); only the hash is kept. */
export const enrollmentTokens = pgTable(
  "enrollment_tokens",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    territoryId: uuid("territory_id"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("enrollment_tokens_hash_idx").on(t.tokenHash)],
);

/** A machine running a Nexus. Its bearer token is stored hashed; a revoked territory is refused everywhere. */
export const territories = pgTable(
  "territories",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    platform: text("platform").notNull(),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    capacity: integer("capacity").notNull().default(1),
    running: integer("running").notNull().default(0),
    drivers: jsonb("drivers").$type<string[]>().notNull().default([]),
    nexusVersion: text("nexus_version"),
    status: text("status", { enum: territoryStatuses }).notNull(),
    tokenHash: text("token_hash").notNull(),
    heartbeatIntervalSeconds: integer("heartbeat_interval_seconds").notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    /** The Nexus `npm start` runs beside the server (conduits/local-nexus.ts); at most one per account. */
    local: boolean("local").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("territories_token_hash_idx").on(t.tokenHash),
    index("territories_account_idx").on(t.accountId),
    uniqueIndex("territories_one_local_idx").on(t.accountId).where(sql`${t.local}`),
  ],
);

/** A workspace on one territory: `root` is the absolute path for kind `path`, else the Nexus places it. */
export const facilities = pgTable(
  "facilities",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    territoryId: uuid("territory_id")
      .notNull()
      .references(() => territories.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: facilityKinds }).notNull(),
    root: text("root"),
    repoUrl: text("repo_url"),
    /** A facility the server keeps for one job on its territory (`mac_tools`: where macOS tools run); null for workspaces. */
    purpose: text("purpose"),
    createdAt: createdAt(),
  },
  (t) => [
    index("facilities_territory_idx").on(t.territoryId),
    // One facility per folder of a territory, so finding a workspace by its path never makes a second one.
    uniqueIndex("facilities_territory_root_idx").on(t.territoryId, t.root).where(sql`${t.root} is not null`),
    // One per purpose per territory, so concurrent callers find the same one.
    uniqueIndex("facilities_territory_purpose_idx").on(t.territoryId, t.purpose).where(sql`${t.purpose} is not null`),
  ],
);

/**
 * One command for one facility, from the queue to an end (conduits/). `spec` is what the Nexus receives;
 * `runStepId` names the run step waiting on it (a column, not yet a foreign key: run steps land separately).
 */
export const directives = pgTable(
  "directives",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    facilityId: uuid("facility_id")
      .notNull()
      .references(() => facilities.id, { onDelete: "cascade" }),
    territoryId: uuid("territory_id")
      .notNull()
      .references(() => territories.id, { onDelete: "cascade" }),
    runStepId: uuid("run_step_id"),
    state: text("state", { enum: directiveStates }).notNull(),
    driver: text("driver").notNull(),
    spec: jsonb("spec").$type<Record<string, unknown>>().notNull(),
    timeoutSeconds: integer("timeout_seconds").notNull(),
    outputCapBytes: integer("output_cap_bytes").notNull(),
    /** Hash of the token handed out with the current lease; cleared when the lease lapses. */
    tokenHash: text("token_hash"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    cancelRequestedAt: timestamp("cancel_requested_at", { withTimezone: true }),
    outputBytes: bigint("output_bytes", { mode: "number" }).notNull().default(0),
    stdoutTruncated: boolean("stdout_truncated").notNull().default(false),
    stderrTruncated: boolean("stderr_truncated").notNull().default(false),
    diffTruncated: boolean("diff_truncated").notNull().default(false),
    exitCode: integer("exit_code"),
    result: jsonb("result").$type<Record<string, unknown>>(),
    diff: text("diff"),
    resultHash: text("result_hash"),
    /** Why the server ended it itself (lease lost, timeout, rejected), when it did. */
    endReason: text("end_reason"),
    /** Why policy asked a person before it runs (state awaiting_approval until the answer). */
    approvalReasons: jsonb("approval_reasons").$type<string[]>(),
    nexusVersion: text("nexus_version"),
    queuedAt: timestamp("queued_at", { withTimezone: true }).notNull().defaultNow(),
    leasedAt: timestamp("leased_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    index("directives_claim_idx").on(t.territoryId, t.queuedAt).where(sql`${t.state} = 'queued'`),
    // One directive at a time per facility, enforced by the database.
    uniqueIndex("directives_one_active_per_facility_idx")
      .on(t.facilityId)
      .where(sql`${t.state} IN ('leased', 'running')`),
    index("directives_active_idx").on(t.leaseExpiresAt).where(sql`${t.state} IN ('leased', 'running')`),
  ],
);

/** A directive's output as the Nexus sent it, in order per stream; a repeated seq is a duplicate. */
export const directiveLogChunks = pgTable(
  "directive_log_chunks",
  {
    directiveId: uuid("directive_id")
      .notNull()
      .references(() => directives.id, { onDelete: "cascade" }),
    stream: text("stream", { enum: outputStreams }).notNull(),
    seq: integer("seq").notNull(),
    bytes: bytea("bytes").notNull(),
    truncated: boolean("truncated").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.directiveId, t.stream, t.seq] })],
);

/**
 * A file a directive left for people and the model (a screenshot), uploaded by its Nexus before `finished`; one per
 * name per directive. Served at GET /api/artifacts/:id to whoever owns the directive's conversation.
 */
export const directiveArtifacts = pgTable(
  "directive_artifacts",
  {
    id: uuid("id").primaryKey(),
    directiveId: uuid("directive_id")
      .notNull()
      .references(() => directives.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    contentType: text("content_type", { enum: artifactContentTypes }).notNull(),
    bytes: bytea("bytes").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    sha256: text("sha256").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("directive_artifacts_name_idx").on(t.directiveId, t.name)],
);

/**
 * Rules for what directives may do, at one level: the account (agentId and facilityId null), one agent, or one
 * facility. Levels merge most-restrictive-wins (conduits/policy.ts); `rules` is `policyRules` in the protocol.
 */
export const policies = pgTable(
  "policies",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    agentProgramId: uuid("agent_program_id").references(() => agentPrograms.id, { onDelete: "cascade" }),
    facilityId: uuid("facility_id").references(() => facilities.id, { onDelete: "cascade" }),
    rules: jsonb("rules").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("policies_level_idx").on(
      t.accountId,
      sql`coalesce(${t.agentProgramId}, '00000000-0000-0000-0000-000000000000'::uuid)`,
      sql`coalesce(${t.facilityId}, '00000000-0000-0000-0000-000000000000'::uuid)`,
    ),
  ],
);

/** A person's answer to a directive that waited for approval; one per directive. */
export const approvals = pgTable(
  "approvals",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    directiveId: uuid("directive_id")
      .notNull()
      .references(() => directives.id, { onDelete: "cascade" }),
    decision: text("decision", { enum: ["approved", "rejected", "withdrawn"] }).notNull(),
    reason: text("reason"),
    decidedBy: uuid("decided_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("approvals_directive_idx").on(t.directiveId)],
);
