import { and, asc, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { territories } from "../db/schema.js";
import { localTerritoryOf, scratchFacility, setWorkspace } from "../workspaces/index.js";
import { defineTool, ToolError } from "./define.js";

/** Prints the folder's real path (~/ is the home folder there), then its repository's top folder if any. */
const CHECK_FOLDER = [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  'case "$1" in "~/"*) set -- "$HOME/${1#"~/"}";; esac',
  'cd -- "$1" 2>/dev/null || { echo "not a folder: $1" >&2; exit 3; }',
  "pwd -P",
  "git rev-parse --show-toplevel 2>/dev/null || true",
].join("\n");

export const workspaceSetTool = defineTool("workspace_set", {
  title: ({ path, territory }) => `Set the workspace to ${path}${territory ? ` on ${territory}` : ""}`,
  description: [
    "Choose the folder the coding tools (read_file, edit_file, bash, git_*…) work in, for this conversation and",
    'later turns. Call it when the user says which project to work on ("work on ~/code/app"). The folder must exist',
    "on the machine; it is checked there first. `territory` names the machine when several are connected (the",
    "embedded one is used otherwise). Set `for_agent` when the user wants this agent to keep using the folder in",
    "new conversations.",
  ].join(" "),
  parameters: z.object({
    path: z.string().min(1).max(4096).describe("An absolute path (or one starting with ~/) on that machine."),
    territory: z.string().max(200).optional().describe("The machine's name, as listed under Territories."),
    for_agent: z.boolean().optional().describe("Also make it this agent's default workspace."),
  }),
  async execute({ path, territory: name }, context) {
    const { services } = context;
    const territory = name
      ? (
          await services.db
            .select()
            .from(territories)
            .where(
              and(
                eq(territories.accountId, context.account.id),
                eq(territories.name, name),
                ne(territories.status, "revoked"),
              ),
            )
            .orderBy(asc(territories.createdAt))
        )[0]
      : await localTerritoryOf(services.db, context.account.id);
    if (!territory) {
      throw new ToolError(
        name
          ? `No machine named "${name}" is connected. The connected ones are under System settings → Territories.`
          : "No machine is connected to run commands on. Connect one under System settings → Territories.",
      );
    }
    if (territory.status === "offline") {
      throw new ToolError(`The machine "${territory.name}" is offline; it cannot check the folder now.`);
    }
    return {
      directive: {
        facilityId: await scratchFacility(services.db, territory),
        request: {
          command: { argv: ["sh", "-c", CHECK_FOLDER, "workspace_set", path] },
          env_allowlist: ["HOME"],
          timeout_seconds: 15,
        },
      },
    };
  },
  async finish(outcome, { path, for_agent }, context) {
    if (outcome.state !== "succeeded" || outcome.exitCode !== 0) {
      throw new ToolError(
        outcome.endReason === "rejected"
          ? "The person did not allow checking that folder."
          : `${path} is not a folder on ${outcome.territory.name}${outcome.stderr.trim() ? ` (${outcome.stderr.trim()})` : ""}.`,
      );
    }
    const [root, repoTop] = outcome.stdout.split("\n").map((line) => line.trim());
    const workspace = await setWorkspace(
      context.services,
      { accountId: context.account.id, conversationId: context.conversationId, agentId: context.agent.id },
      { territoryId: outcome.territory.id, root: root!, forAgent: for_agent ?? false },
    );
    const repo = repoTop
      ? repoTop === root
        ? "a git repository"
        : `inside the git repository ${repoTop}`
      : "not a git repository";
    return {
      summary: `Workspace: ${workspace.root} on ${workspace.territory.name}`,
      output: `The workspace is now ${workspace.root} on ${workspace.territory.name} (${repo}). Coding tools work there from now on${for_agent ? ", in this agent's new conversations too" : ""}.`,
      metadata: { root: workspace.root, territory: workspace.territory.name, repository: repoTop || null },
    };
  },
});
