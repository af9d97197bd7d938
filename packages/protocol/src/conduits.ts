import { z } from "zod";
import { directiveState, outputStream } from "./directives.js";
import { codingOperation } from "./operations.js";

/**
 * The Conduits control plane (`/conduits/v1`): what a Nexus sends and what the server answers, defined once.
 * Wire names are snake_case: this is a machine protocol, spoken by clients outside this repository too.
 */

export const territoryStatuses = ["pending", "online", "offline", "revoked"] as const;
export const territoryStatus = z.enum(territoryStatuses);
export type TerritoryStatus = z.infer<typeof territoryStatus>;

export const facilityKinds = ["repo", "empty", "path"] as const;
export const facilityKind = z.enum(facilityKinds);
export type FacilityKind = z.infer<typeof facilityKind>;

/** How a directive is isolated on its territory: `host` is a process group in the facility, `bwrap` a sandbox. */
export const driverName = z.enum(["host", "bwrap"]);
export type DriverName = z.infer<typeof driverName>;

export const finalDirectiveStates = ["succeeded", "failed", "canceled", "timed_out"] as const;
export const finalDirectiveState = z.enum(finalDirectiveStates);
export type FinalDirectiveState = z.infer<typeof finalDirectiveState>;

const name = z.string().trim().min(1, "is required").max(120, "is at most 120 characters");
const labels = z.record(z.string().max(64), z.string().max(256)).default({});

// Enrollment

export const enrollRequest = z.object({
  enroll_token: z.string().min(1, "is required").max(200),
  name,
  platform: z.string().trim().min(1, "is required").max(64),
  labels,
  capacity: z.number().int().min(1).max(64).default(1),
});
export type EnrollRequest = z.infer<typeof enrollRequest>;

/** Intervals the server wants a Nexus to keep. */
export const nexusConfig = z.object({
  heartbeat_interval_seconds: z.number().int().positive(),
  directive_heartbeat_interval_seconds: z.number().int().positive(),
  lease_seconds: z.number().int().positive(),
  poll_wait_seconds: z.number().int().positive(),
  max_log_chunk_bytes: z.number().int().positive(),
});
export type NexusConfig = z.infer<typeof nexusConfig>;

export const enrollResponse = z.object({
  territory_id: z.string(),
  /** Shown once; the server keeps only its hash. Sent as `Authorization: Bearer` on every later call. */
  territory_token: z.string(),
  config: nexusConfig,
});
export type EnrollResponse = z.infer<typeof enrollResponse>;

// Territory heartbeat

export const territoryHeartbeatRequest = z.object({
  capacity: z.number().int().min(1).max(64),
  running: z.number().int().min(0),
  drivers: z.array(driverName).max(8).default([]),
  nexus_version: z.string().max(64),
});
export type TerritoryHeartbeatRequest = z.infer<typeof territoryHeartbeatRequest>;

export const territoryHeartbeatResponse = z.object({ next_heartbeat_seconds: z.number().int().positive() });
export type TerritoryHeartbeatResponse = z.infer<typeof territoryHeartbeatResponse>;

// Directive spec

/** A path inside the facility: relative, no `..` segment, so a spec cannot name a place outside it. */
export const facilityPath = z
  .string()
  .max(1024)
  .refine((value) => !value.startsWith("/") && !value.startsWith("\\"), "must be relative to the facility")
  .refine((value) => !value.split(/[\\/]/).includes(".."), "must stay inside the facility");

/** A program and its arguments, a `/bin/sh` script, or a coding operation the Nexus performs itself. */
export const directiveCommand = z.union([
  z.object({ argv: z.array(z.string().max(32_768)).min(1, "needs at least the program").max(1024) }),
  z.object({ shell: z.string().min(1, "is required").max(65_536) }),
  z.object({ operation: codingOperation }),
]);
export type DirectiveCommand = z.infer<typeof directiveCommand>;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "is not an environment variable name");

export const directiveCapabilities = z.object({
  network: z.enum(["none", "allowlist", "open"]).default("none"),
  network_allowlist: z.array(z.string().max(255)).max(64).default([]),
});
export type DirectiveCapabilities = z.infer<typeof directiveCapabilities>;

export const MAX_OUTPUT_CAP_BYTES = 10_000_000;

/** What a caller asks for; the server adds the ids and the facility when it enqueues. */
export const directiveRequest = z.object({
  command: directiveCommand,
  cwd: facilityPath.default("."),
  /** Names copied from the Nexus's own environment, when set there. */
  env_allowlist: z.array(envName).max(64).default([]),
  env: z.record(envName, z.string().max(32_768)).default({}),
  stdin: z.string().max(1_000_000).optional(),
  timeout_seconds: z.number().int().min(1).max(86_400).default(300),
  output_cap_bytes: z.number().int().min(0).max(MAX_OUTPUT_CAP_BYTES).default(2_000_000),
  driver: driverName.default("host"),
  capabilities: directiveCapabilities.default({ network: "none", network_allowlist: [] }),
});
export type DirectiveRequest = z.input<typeof directiveRequest>;

export const directiveSpec = directiveRequest.extend({
  directive_id: z.string(),
  facility: z.object({ id: z.string(), kind: facilityKind, root: z.string().nullable() }),
});
export type DirectiveSpec = z.infer<typeof directiveSpec>;

// Polls

export const MAX_POLL_WAIT_SECONDS = 25;

export const pollRequest = z.object({
  max_directives: z.number().int().min(1).max(16).default(1),
  supported_drivers: z.array(driverName).min(1, "needs at least one driver").default(["host"]),
  /** How long the server may hold the request while nothing is claimable; 0 answers at once. */
  wait_seconds: z.number().int().min(0).max(MAX_POLL_WAIT_SECONDS).default(MAX_POLL_WAIT_SECONDS),
});
export type PollRequest = z.input<typeof pollRequest>;

export const claimedDirective = z.object({
  directive_id: z.string(),
  /** Sent as `Cybros-Directive-Token` on this directive's calls; good until the directive leaves this territory. */
  directive_token: z.string(),
  spec: directiveSpec,
});
export type ClaimedDirective = z.infer<typeof claimedDirective>;

export const pollResponse = z.object({
  directives: z.array(claimedDirective),
  lease_seconds: z.number().int().positive(),
  /** How often to heartbeat each claimed directive; its answer carries cancel. */
  directive_heartbeat_seconds: z.number().int().positive(),
  retry_after_seconds: z.number().int().min(0),
});
export type PollResponse = z.infer<typeof pollResponse>;

// One directive's calls

export const DIRECTIVE_TOKEN_HEADER = "cybros-directive-token";

export const directiveStartedRequest = z.object({ nexus_version: z.string().max(64).optional() });
export const directiveStartedResponse = z.object({
  directive_id: z.string(),
  state: directiveState,
  duplicate: z.boolean(),
});
export type DirectiveStartedResponse = z.infer<typeof directiveStartedResponse>;

export const directiveHeartbeatResponse = z.object({
  cancel_requested: z.boolean(),
  lease_seconds: z.number().int().positive(),
});
export type DirectiveHeartbeatResponse = z.infer<typeof directiveHeartbeatResponse>;

export const MAX_LOG_CHUNK_BYTES = 256 * 1024;

export const logChunkRequest = z.object({
  stream: outputStream,
  seq: z.number().int().min(0),
  bytes: z.base64("must be standard base64"),
});
export type LogChunkRequest = z.infer<typeof logChunkRequest>;

export const logChunkResponse = z.object({
  directive_id: z.string(),
  stream: outputStream,
  seq: z.number().int(),
  duplicate: z.boolean(),
  accepted_bytes: z.number().int().min(0),
  /** The combined output cap cut this chunk (or an earlier one): the rest was dropped. */
  truncated: z.boolean(),
});
export type LogChunkResponse = z.infer<typeof logChunkResponse>;

export const MAX_DIFF_BYTES = 1024 * 1024;

export const directiveFinishedRequest = z.object({
  status: finalDirectiveState,
  /** The process's own code; 124 for a timeout, 128+N for a signal; null when it never ran. */
  exit_code: z.number().int().min(0).max(255).nullable(),
  stdout_truncated: z.boolean().default(false),
  stderr_truncated: z.boolean().default(false),
  diff_truncated: z.boolean().default(false),
  /** Structured output of the directive (e.g. a tool's JSON), kept as sent. */
  result: z.record(z.string(), z.unknown()).nullable().default(null),
  /** `git diff` of the facility when it is a repo. */
  diff_base64: z.base64("must be standard base64").optional(),
});
export type DirectiveFinishedRequest = z.input<typeof directiveFinishedRequest>;

export const directiveFinishedResponse = z.object({
  directive_id: z.string(),
  state: finalDirectiveState,
  duplicate: z.boolean(),
});
export type DirectiveFinishedResponse = z.infer<typeof directiveFinishedResponse>;

// The session API over territories (`/api/territories`), for System settings.

export const territorySummary = z.object({
  id: z.string(),
  name: z.string(),
  platform: z.string(),
  status: territoryStatus,
  drivers: z.array(z.string()),
  capacity: z.number().int(),
  running: z.number().int(),
  lastSeenAt: z.string().nullable(),
  /** The server's own embedded Nexus ("This computer"): not enrolled, not revocable. */
  local: z.boolean(),
});
export type TerritorySummary = z.infer<typeof territorySummary>;

export const territoryList = z.object({ territories: z.array(territorySummary) });
export type TerritoryList = z.infer<typeof territoryList>;

export const enrollmentTokenCreated = z.object({
  token: z.string(),
  expiresAt: z.string(),
  /** What to run on the machine to enroll it. */
  command: z.string(),
});
export type EnrollmentTokenCreated = z.infer<typeof enrollmentTokenCreated>;
