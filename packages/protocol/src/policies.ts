import { z } from "zod";
import { storableText } from "./text.js";

/**
 * Policies: what a directive (a command on a territory) may do without asking, at one level (the account, an
 * agent, a facility). Levels merge most-restrictive-wins; a field no level sets takes the territory's default
 * (server conduits/policy.ts, decisions/0032). Wire names are snake_case, as in the directive spec they govern.
 */

/** What happens to a command: it runs, it waits for a person's yes, or it never runs. Ordered, least strict first. */
export const policyVerdicts = ["allowed", "needs_approval", "forbidden"] as const;
export const policyVerdict = z.enum(policyVerdicts);
export type PolicyVerdict = z.infer<typeof policyVerdict>;

/** How much network a directive has. Ordered, least first. */
export const networkModes = ["none", "allowlist", "open"] as const;
export const networkMode = z.enum(networkModes);
export type NetworkMode = z.infer<typeof networkMode>;

/** Whether directives run in bwrap (a read-only system, only the facility writable). Ordered, least strict first. */
export const sandboxModes = ["off", "when_available", "required"] as const;
export const sandboxMode = z.enum(sandboxModes);
export type SandboxMode = z.infer<typeof sandboxMode>;

/** `example.com`, `*.example.com` (its subdomains), optionally with `:port`. */
export const networkHost = storableText()
  .trim()
  .toLowerCase()
  .regex(
    /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?(:\d{1,5})?$/,
    "must be a host name such as example.com, *.example.com or example.com:443",
  );

/**
 * A command rule. Without `*` it is a prefix on word boundaries (`git push` matches `git push origin main`, not
 * `git pushed`); with `*` a glob over the whole command, `*` spanning anything, spaces too (`npm run *`).
 */
export const commandPattern = storableText()
  .trim()
  .min(1, "must not be empty")
  .max(1000, "must be at most 1000 characters");

const commandPatterns = z.array(commandPattern).max(200, "has at most 200 rules");

/** Rules on commands, as Claude Code users know them: deny, then ask, then allow; a deny always wins. */
export const commandRules = z.strictObject({
  /** These run without asking: an allow skips a question (dangerous, outside the workspace, default), never a refusal. */
  allow: commandPatterns.optional(),
  /** These wait for a person's approval. */
  ask: commandPatterns.optional(),
  /** These never run. */
  deny: commandPatterns.optional(),
});
export type CommandRules = z.infer<typeof commandRules>;

/** One level's rules; every field optional (unset: another level or the default decides). */
export const policyRules = z.strictObject({
  /** The most network a directive gets without asking. */
  network: networkMode.optional(),
  /** With network `allowlist`: the hosts allowed. Several levels' lists intersect. */
  network_allowlist: z.array(networkHost).max(64, "has at most 64 hosts").optional(),
  /** A command that runs or writes outside the facility (cd /etc, > ~/.bashrc, ../..). */
  outside_workspace: policyVerdict.optional(),
  /** A command matching a dangerous pattern: rm -rf /, curl … | sh, sudo, mkfs, dd to a device, a fork bomb, … */
  dangerous: policyVerdict.optional(),
  /** Any other command (`needs_approval` with `commands.allow` is an allowlist). */
  default: policyVerdict.optional(),
  /** bwrap confinement: never, when the territory has it, or always (a territory without it runs nothing). */
  sandbox: sandboxMode.optional(),
  commands: commandRules.optional(),
});
export type PolicyRules = z.infer<typeof policyRules>;

/** What policy says about one directive request. */
export const policyDecision = z.object({
  decision: policyVerdict,
  /** Why, in words a person reads next to Approve / Reject (or the model reads when it is forbidden); empty when allowed. */
  reasons: z.array(z.string()),
  /** The network the directive runs with (what it asked for: asking for more than policy gives needs approval). */
  network: networkMode,
  /** The hosts it may reach when `network` is `allowlist`. */
  network_allowlist: z.array(z.string()),
  driver: z.enum(["host", "bwrap"]),
});
export type PolicyDecision = z.infer<typeof policyDecision>;

// The session API over policies (`/api/policies`).

export const agentPolicy = z.object({ agentId: z.string(), rules: policyRules });
export type AgentPolicy = z.infer<typeof agentPolicy>;

/** `GET /api/policies`: the account's rules, each agent's that has some, and what applies where nothing is set. */
export const policiesView = z.object({
  account: policyRules,
  agents: z.array(agentPolicy),
  defaults: z.object({ local: policyRules, remote: policyRules }),
});
export type PoliciesView = z.infer<typeof policiesView>;

/** `PUT /api/policies/account` and `PUT /api/policies/agents/:agentId`: the level's rules, replaced whole. */
export const savePolicyInput = policyRules;
export type SavePolicyInput = z.infer<typeof savePolicyInput>;
