import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { repoRoot } from "../config.js";
import type { Db } from "../db/index.js";
import { agentPrograms } from "../db/schema.js";

/**
 * A private copy of the bundled agents (for CYBROS_AGENTS_DIR) whose default assistant waits for a person's
 * approval before every call of `tools`. The caller removes the folder.
 */
export function agentsRequiringApproval(tools: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-agents-"));
  fs.cpSync(path.join(repoRoot, "agents"), dir, { recursive: true });
  const manifest = path.join(dir, "default-assistant/agent.yml");
  const approval = `tools:\n  approval: [${tools.join(", ")}]\n`;
  fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace("tools:\n", approval));
  return dir;
}

/**
 * A private copy of the bundled agents (for CYBROS_AGENTS_DIR) whose default assistant is also offered `tools`
 * (built-ins its agent.yml does not list). The caller removes the folder.
 */
export function agentsAllowing(tools: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-agents-"));
  fs.cpSync(path.join(repoRoot, "agents"), dir, { recursive: true });
  const manifest = path.join(dir, "default-assistant/agent.yml");
  const allow = `  allow:\n${tools.map((tool) => `    - ${tool}\n`).join("")}`;
  fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace("  allow:\n", allow));
  return dir;
}

/**
 * A private copy of the bundled agents (for CYBROS_AGENTS_DIR) whose default assistant runs `script` (saved as
 * hooks/<file>, a `#!` script) as its `hook`. The caller removes the folder.
 */
export function agentsWithHook(hook: "before_inference" | "on_conversation_start", file: string, script: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-agents-"));
  fs.cpSync(path.join(repoRoot, "agents"), dir, { recursive: true });
  const agent = path.join(dir, "default-assistant");
  fs.mkdirSync(path.join(agent, "hooks"), { recursive: true });
  fs.writeFileSync(path.join(agent, "hooks", file), script, { mode: 0o755 });
  fs.appendFileSync(path.join(agent, "agent.yml"), `\nhooks:\n  ${hook}: hooks/${file}\n`);
  return dir;
}

/** The id of the bundled default assistant the seeds gave the account. */
export async function defaultAssistantId(db: Db): Promise<string> {
  const [agent] = await db
    .select({ id: agentPrograms.id })
    .from(agentPrograms)
    .where(eq(agentPrograms.profileSource, "bundled:default-assistant"));
  if (!agent) throw new Error("the seeds made no default assistant");
  return agent.id;
}
