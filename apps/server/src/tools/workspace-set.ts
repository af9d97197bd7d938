import { and, asc, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { localTerritory } from "../conduits/local-nexus.js";
import { territories } from "../db/schema.js";
import { folderFacility, setWorkspace } from "../workspaces/index.js";
import { type DirectiveOutcome, defineTool, ToolError } from "./define.js";

/** Prints the folder's real path, then its repository's top folder when it is in one. */
const CHECK_FOLDER = "pwd -P; git rev-parse --show-toplevel 2>/dev/null || true";

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
    path: z
      .string()
      .max(4096)
      .refine((value) => value.startsWith("/"), "must be an absolute path (starting with /) on that machine")
      .describe("The folder's absolute path on that machine."),
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
      : await localTerritory(services, context.account.id);
    if (!territory || territory.status === "revoked") {
      throw new ToolError(
        name
          ? `No machine named "${name}" is connected. The connected ones are under System settings → Territories.`
          : "No machine is connected to run commands on. Connect one under System settings → Territories.",
      );
    }
    if (territory.status === "offline") {
      throw new ToolError(`The machine "${territory.name}" is offline; it cannot check the folder now.`);
    }
    // Checked inside the folder itself: a command there needs no approval, and a missing folder is not made.
    const facility = await folderFacility(services.db, context.account.id, territory.id, path.replace(/(.)\/+$/, "$1"));
    return {
      directive: {
        facilityId: facility,
        request: { command: { shell: CHECK_FOLDER }, timeout_seconds: 15 },
      },
    };
  },
  async finish(outcome, { path, for_agent }, context) {
    if (outcome.state !== "succeeded" || outcome.exitCode !== 0) {
      throw new ToolError(
        outcome.endReason === "rejected"
          ? "The person did not allow checking that folder."
          : `${path} is not a folder on ${outcome.territory.name}${whyNot(outcome) ? ` (${whyNot(outcome)})` : ""}.`,
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

function whyNot(outcome: DirectiveOutcome): string {
  const error = outcome.result?.error;
  return typeof error === "string" ? error : outcome.stderr.trim();
}
