import fs from "node:fs/promises";
import path from "node:path";
import type { AgentProfile, AgentSummary } from "@cybros/protocol";
import { and, asc, desc, eq, ilike, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Config } from "../config.js";
import type { Account } from "../current.js";
import type { Db } from "../db/index.js";
import { agentPrograms } from "../db/schema.js";
import { NotFoundError } from "../errors.js";
import type { Logger } from "../log.js";
import { loadAgentProgram } from "./loader.js";

/**
 * Agent programs: a row (name, where its files live, how it was made) pointing at a folder of files that the
 * loader reads each turn. Verbs: list, find, profiles; detail.ts describes one, create.ts makes one.
 */
export type AgentProgram = typeof agentPrograms.$inferSelect;

export { AgentProgramError } from "./errors.js";
export { type AgentDefinition, LOAD_TIMEOUT_MS, loadAgentProgram, renderSystemPrompt } from "./loader.js";
export type { PromptVariables } from "./prompt.js";
export { formatSkillsIndex, type SkillSummary } from "./skills.js";

export function presentAgent(program: AgentProgram): AgentSummary {
  return {
    id: program.id,
    name: program.name,
    description: program.description,
    bundled: program.bundled,
    profileSource: program.profileSource,
    createdAt: program.createdAt.toISOString(),
  };
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Bundled programs first, then by name; `q` matches name or description, case-insensitively. */
export async function listAgentPrograms(db: Db, account: Account, q?: string): Promise<AgentProgram[]> {
  const search = q
    ? or(ilike(agentPrograms.name, likePattern(q)), ilike(agentPrograms.description, likePattern(q)))
    : undefined;
  return db
    .select()
    .from(agentPrograms)
    .where(and(eq(agentPrograms.accountId, account.id), isNull(agentPrograms.deletedAt), search))
    .orderBy(desc(agentPrograms.bundled), asc(sql`lower(${agentPrograms.name})`), asc(agentPrograms.id));
}

export async function findAgentProgram(db: Db, account: Account, id: string): Promise<AgentProgram> {
  // A malformed id is simply not found (and never reaches Postgres, which would reject it as a uuid).
  if (!z.uuid().safeParse(id).success) throw new NotFoundError("Agent");
  const [program] = await db
    .select()
    .from(agentPrograms)
    .where(and(eq(agentPrograms.accountId, account.id), eq(agentPrograms.id, id), isNull(agentPrograms.deletedAt)));
  if (!program) throw new NotFoundError("Agent");
  return program;
}

/** A bundled program usable as a profile: its folder under agents/ and what agent.yml says about it. */
export interface Profile extends AgentProfile {
  localPath: string;
}

const profileId = /^[a-z0-9][a-z0-9_-]*$/;

/** Every folder under the bundled agents/ folder that loads as a program; broken ones are logged and left out. */
export async function listProfiles(config: Config, log: Logger): Promise<Profile[]> {
  const entries = await fs.readdir(config.agentsDir, { withFileTypes: true }).catch(() => []);
  const ids = entries
    .filter((e) => e.isDirectory() && profileId.test(e.name))
    .map((e) => e.name)
    .sort();
  const profiles = await Promise.all(ids.map((id) => findProfile(config, id, log)));
  return profiles.filter((p): p is Profile => p !== null);
}

export async function findProfile(config: Config, id: string, log?: Logger): Promise<Profile | null> {
  if (!profileId.test(id)) return null;
  const localPath = path.join(config.agentsDir, id);
  if (!(await fs.stat(localPath).catch(() => null))?.isDirectory()) return null;
  try {
    const definition = await loadAgentProgram(localPath);
    return { id, name: definition.manifest.name, description: definition.manifest.description, localPath };
  } catch (error) {
    log?.warn({ err: error, profile: id }, "bundled profile left out: it does not load");
    return null;
  }
}
