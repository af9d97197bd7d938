import { type AgentPolicy, type PolicyRules, policyRules } from "@cybros/protocol";
import { and, asc, eq, isNull, or, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { agentPrograms, policies } from "../db/schema.js";
import { uuidv7 } from "../ids.js";

/**
 * Policy levels as stored: one `policies` row per account, agent or facility (`rules` is `policyRules`). Rules
 * that no longer read as `policyRules` ask before every command rather than be skipped.
 */

const UNREADABLE: PolicyRules = { default: "needs_approval" };

function readRules(raw: unknown): PolicyRules {
  const parsed = policyRules.safeParse(raw);
  return parsed.success ? parsed.data : UNREADABLE;
}

/** The levels that apply to one directive: the account's, its agent's, its facility's. */
export async function policyLevelsFor(
  db: Db,
  input: { accountId: string; agentProgramId: string | null; facilityId: string },
): Promise<PolicyRules[]> {
  const rows = await db
    .select({ rules: policies.rules })
    .from(policies)
    .where(
      and(
        eq(policies.accountId, input.accountId),
        input.agentProgramId
          ? or(isNull(policies.agentProgramId), eq(policies.agentProgramId, input.agentProgramId))
          : isNull(policies.agentProgramId),
        or(isNull(policies.facilityId), eq(policies.facilityId, input.facilityId)),
      ),
    );
  return rows.map((row) => readRules(row.rules));
}

/** The account's own rules and those of each agent (not deleted) that has some. */
export async function storedPolicies(
  db: Db,
  accountId: string,
): Promise<{ account: PolicyRules; agents: AgentPolicy[] }> {
  const rows = await db
    .select({ agentId: policies.agentProgramId, rules: policies.rules, deletedAt: agentPrograms.deletedAt })
    .from(policies)
    .leftJoin(agentPrograms, eq(agentPrograms.id, policies.agentProgramId))
    .where(and(eq(policies.accountId, accountId), isNull(policies.facilityId)))
    .orderBy(asc(policies.createdAt), asc(policies.id));
  const account = rows.find((row) => row.agentId === null);
  return {
    account: account ? readRules(account.rules) : {},
    agents: rows
      .filter((row) => row.agentId !== null && row.deletedAt === null)
      .map((row) => ({ agentId: row.agentId!, rules: readRules(row.rules) })),
  };
}

/** Replaces one level's rules (the account's when `agentProgramId` is null); empty rules remove the level. */
export async function savePolicyLevel(
  db: Db,
  input: { accountId: string; agentProgramId: string | null; rules: PolicyRules },
): Promise<PolicyRules> {
  const rules = compact(input.rules);
  if (Object.keys(rules).length === 0) {
    await db
      .delete(policies)
      .where(
        and(
          eq(policies.accountId, input.accountId),
          input.agentProgramId ? eq(policies.agentProgramId, input.agentProgramId) : isNull(policies.agentProgramId),
          isNull(policies.facilityId),
        ),
      );
    return rules;
  }
  // The level's unique index is on expressions, which Drizzle's conflict target cannot name.
  await db.execute(sql`
    INSERT INTO policies (id, account_id, agent_program_id, facility_id, rules)
    VALUES (${uuidv7()}, ${input.accountId}, ${input.agentProgramId}, NULL, ${JSON.stringify(rules)}::jsonb)
    ON CONFLICT (account_id, coalesce(agent_program_id, '00000000-0000-0000-0000-000000000000'::uuid),
      coalesce(facility_id, '00000000-0000-0000-0000-000000000000'::uuid))
    DO UPDATE SET rules = excluded.rules, updated_at = now()`);
  return rules;
}

/** Without unset fields and empty command lists, so `{}` means "nothing set here". */
function compact(rules: PolicyRules): PolicyRules {
  const out: PolicyRules = JSON.parse(JSON.stringify(rules));
  if (out.commands) {
    for (const key of ["allow", "ask", "deny"] as const) if (out.commands[key]?.length === 0) delete out.commands[key];
    if (Object.keys(out.commands).length === 0) delete out.commands;
  }
  return out;
}
