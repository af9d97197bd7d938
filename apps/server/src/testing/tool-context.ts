import { eq } from "drizzle-orm";
import { defaultAccount } from "../accounts/index.js";
import { agentPrograms, conversations, users } from "../db/schema.js";
import { uuidv7 } from "../ids.js";
import type { Embedder } from "../memory/embedder.js";
import { isRunDirective, runTool, type Tool, type ToolContext } from "../tools/define.js";
import type { TestServer } from "./harness.js";

/**
 * A ToolContext as a run would build it: a new agent program of the default account with one conversation.
 * Needs a server that went through setup (startSignedIn). Reads the account now, so set settings first.
 */
export async function toolContextFor(
  server: TestServer,
  options: { embedder?: Embedder; agentId?: string } = {},
): Promise<ToolContext> {
  const { services } = server;
  const account = await defaultAccount(services.db);
  const [user] = await services.db.select().from(users).where(eq(users.accountId, account.id)).limit(1);
  if (!user) throw new Error("toolContextFor needs a server that went through setup (startSignedIn)");
  const agentId = options.agentId ?? uuidv7();
  const localPath = `/tmp/agent-${agentId}`;
  if (!options.agentId) {
    await services.db.insert(agentPrograms).values({
      id: agentId,
      accountId: account.id,
      name: `test-agent-${agentId}`,
      profileSource: `copy:${agentId}`,
      localPath,
    });
  }
  const conversationId = uuidv7();
  await services.db
    .insert(conversations)
    .values({ id: conversationId, accountId: account.id, userId: user.id, agentProgramId: agentId, title: "Test" });
  return {
    services,
    log: services.log,
    account,
    agent: { id: agentId, name: `test-agent-${agentId}`, localPath },
    conversationId,
    signal: new AbortController().signal,
    embedder: options.embedder,
  };
}

/** Runs an in-process tool through the one wrapper; a tool that answers with a directive fails the test. */
export async function runToolHere(tool: Tool, args: unknown, context: ToolContext) {
  const answer = await runTool(tool, args, context);
  if (isRunDirective(answer)) throw new Error(`${tool.name} answered with a directive, not a result`);
  return answer;
}
