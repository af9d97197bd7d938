import fs from "node:fs";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import YAML from "yaml";
import type { Account } from "../current.js";
import { isUniqueViolation } from "../db/errors.js";
import { agentPrograms } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";

/** Registers every folder under agents/ that holds an agent.yml; existing rows keep their settings. */
export async function registerBundledAgents(services: Services, account: Account): Promise<void> {
  const root = services.config.agentsDir;
  if (!fs.existsSync(root)) return;
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(root, entry.name);
    const manifestPath = path.join(dir, "agent.yml");
    if (!fs.existsSync(manifestPath)) continue;
    let manifest: { name?: unknown; description?: unknown };
    try {
      manifest = YAML.parse(fs.readFileSync(manifestPath, "utf8")) ?? {};
    } catch (error) {
      services.log.warn({ err: error, path: manifestPath }, "bundled agent skipped: agent.yml does not parse");
      continue;
    }
    const profileSource = `bundled:${entry.name}`;
    const values = {
      name: typeof manifest.name === "string" ? manifest.name : entry.name,
      description: typeof manifest.description === "string" ? manifest.description : "",
      localPath: dir,
    };
    const [existing] = await services.db
      .select({ id: agentPrograms.id })
      .from(agentPrograms)
      .where(and(eq(agentPrograms.accountId, account.id), eq(agentPrograms.profileSource, profileSource)));
    try {
      if (existing) {
        await services.db.update(agentPrograms).set(values).where(eq(agentPrograms.id, existing.id));
      } else {
        await services.db
          .insert(agentPrograms)
          .values({ id: uuidv7(), accountId: account.id, profileSource, bundled: true, ...values });
      }
    } catch (error) {
      // A user's agent already has this name: keep theirs and start anyway.
      if (!isUniqueViolation(error, "agent_programs_account_name_idx")) throw error;
      services.log.warn({ profile: entry.name, name: values.name }, "bundled agent skipped: its name is taken");
    }
  }
}
