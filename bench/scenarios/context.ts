import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadAgentProgram } from "../../apps/server/src/agents/loader.js";
import { contextNodes, toPromptMessages } from "../../apps/server/src/conversations/context.js";
import { type Database, openDatabase } from "../../apps/server/src/db/index.js";
import {
  accounts,
  agentPrograms,
  conversations,
  identities,
  nodes,
  turns,
  users,
} from "../../apps/server/src/db/schema.js";
import { uuidv7 } from "../../apps/server/src/ids.js";
import { createLogger } from "../../apps/server/src/log.js";
import { assemblePrompt } from "../../apps/server/src/prompts/assemble.js";
import { toolsFor } from "../../apps/server/src/tools/registry.js";
import { repoRoot } from "../lib/processes.js";
import type { Metric, Scenario, ScenarioContext } from "../lib/report.js";
import { summarize } from "../lib/stats.js";

const INSERT_BATCH = 1_000;

/** A database of the measured kind: a PGlite folder (as a server runs it) or a scratch PostgreSQL database. */
export async function benchDatabase(
  context: ScenarioContext,
  folder?: string,
): Promise<{ database: Database; close: () => Promise<void> }> {
  const log = createLogger("silent");
  if (context.backend === "postgres") {
    const scratch = await context.newPostgresDatabase!();
    const database = await openDatabase({ url: scratch.url, log });
    return {
      database,
      close: async () => {
        await database.close();
        await scratch.drop();
      },
    };
  }
  const dir = folder ?? fs.mkdtempSync(path.join(os.tmpdir(), "cybros-bench-db-"));
  const database = await openDatabase({ dataDir: path.join(dir, "db"), log });
  return {
    database,
    close: async () => {
      await database.close();
      if (!folder) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The rows every conversation hangs from: an account, its owner, the bundled default-assistant program. */
export async function seedOwner(database: Database) {
  const db = database.db;
  const accountId = uuidv7();
  const identityId = uuidv7();
  const userId = uuidv7();
  const agentProgramId = uuidv7();
  const localPath = path.join(repoRoot, "agents/default-assistant");
  await db.insert(accounts).values({ id: accountId, name: "Bench" });
  await db.insert(identities).values({ id: identityId, email: `bench-${accountId}@example.com`, passwordHash: "x" });
  await db.insert(users).values({ id: userId, identityId, accountId, displayName: "Bench" });
  await db.insert(agentPrograms).values({
    id: agentProgramId,
    accountId,
    name: `Default Assistant ${accountId}`,
    profileSource: "bundled:default-assistant",
    localPath,
    bundled: true,
  });
  return { accountId, userId, agentProgramId, localPath };
}

const USER_TEXT =
  "Could you look at the numbers from last week again and tell me which of the three options still makes sense? ";
const AGENT_TEXT =
  "Here is what I found after going through the figures once more. The first option keeps the current schedule and costs the least, but it leaves no slack if the supplier is late again. The second option adds a buffer week and raises the cost by about four percent. The third option splits the order in two, which halves the risk of a late delivery at the price of a second shipping fee. ";

/** A conversation of `messages` messages (user/agent pairs, one turn each), inserted in multi-row batches. */
export async function seedConversation(
  database: Database,
  owner: Awaited<ReturnType<typeof seedOwner>>,
  messages: number,
) {
  const db = database.db;
  const conversationId = uuidv7();
  const turnCount = Math.ceil(messages / 2);
  await db.insert(conversations).values({
    id: conversationId,
    accountId: owner.accountId,
    userId: owner.userId,
    agentProgramId: owner.agentProgramId,
    title: `Bench ${messages}`,
    lastTurnSeq: turnCount,
  });
  const turnRows: (typeof turns.$inferInsert)[] = [];
  const nodeRows: (typeof nodes.$inferInsert)[] = [];
  for (let seq = 1; seq <= turnCount; seq++) {
    const turnId = uuidv7();
    const runId = uuidv7();
    turnRows.push({ id: turnId, conversationId, seq });
    const base = { conversationId, turnId, turnSeq: seq, runId, state: "finished" as const, finishedAt: new Date() };
    nodeRows.push({ ...base, id: uuidv7(), position: 0, kind: "user_message", content: `${seq}. ${USER_TEXT}` });
    if (nodeRows.length < messages) {
      nodeRows.push({
        ...base,
        id: uuidv7(),
        position: 1,
        kind: "agent_message",
        content: `${seq}. ${AGENT_TEXT}`,
        data: { toolCalls: [], finishReason: "stop" },
      });
    }
  }
  for (let i = 0; i < turnRows.length; i += INSERT_BATCH)
    await db.insert(turns).values(turnRows.slice(i, i + INSERT_BATCH));
  for (let i = 0; i < nodeRows.length; i += INSERT_BATCH)
    await db.insert(nodes).values(nodeRows.slice(i, i + INSERT_BATCH));
  return { conversationId, lastTurnSeq: turnCount };
}

export const contextScenario: Scenario = {
  name: "context",
  title: "Context assembly (contextNodes + toPromptMessages + assemblePrompt) by conversation length",
  postgres: true,
  async run(context: ScenarioContext) {
    const sizes = context.smoke ? [100, 1_000] : [100, 1_000, 10_000];
    const iterations = context.smoke ? 30 : 200;
    const { database, close } = await benchDatabase(context);
    const metrics: Metric[] = [];
    const details: Record<string, unknown> = {};
    try {
      const owner = await seedOwner(database);
      const definition = await loadAgentProgram(owner.localPath);
      const tools = toolsFor(definition.manifest.tools.allow);
      const seeded = [];
      for (const size of sizes) seeded.push({ size, ...(await seedConversation(database, owner, size)) });
      await database.exec("ANALYZE");
      for (const { size, conversationId, lastTurnSeq } of seeded) {
        context.log(`context: ${size} messages, ${iterations} assemblies`);
        const variables = { user: { name: "Bench" }, conversation: { id: conversationId, title: "Bench" }, args: {} };
        const once = async () => {
          const nodesInWindow = await contextNodes(database.db, conversationId, lastTurnSeq);
          const history = toPromptMessages(nodesInWindow);
          return assemblePrompt({ definition, variables, tools, history });
        };
        for (let i = 0; i < 20; i++) await once();
        const samples: number[] = [];
        let messages = 0;
        const cpuBefore = process.cpuUsage();
        for (let i = 0; i < iterations; i++) {
          const started = performance.now();
          const prompt = await once();
          samples.push(performance.now() - started);
          messages = prompt.messages.length;
        }
        const s = summarize(samples);
        // CPU time of this process per assembly: steadier than wall time on a busy machine (PGlite runs here too).
        const cpu = process.cpuUsage(cpuBefore);
        const cpuMs = (cpu.user + cpu.system) / 1000 / iterations;
        metrics.push(
          {
            key: `context.${size}.p50`,
            label: `context assembly, ${size.toLocaleString("en")} messages, p50`,
            unit: "ms",
            value: s.p50,
            ...(size === 10_000 ? { target: { op: "<=" as const, value: 20 } } : {}),
          },
          {
            key: `context.${size}.p99`,
            label: `context assembly, ${size.toLocaleString("en")} messages, p99`,
            unit: "ms",
            value: s.p99,
          },
          {
            key: `context.${size}.cpu`,
            label: `context assembly, ${size.toLocaleString("en")} messages, CPU per assembly${context.backend === "postgres" ? " (this process)" : ""}`,
            unit: "ms",
            value: cpuMs,
          },
        );
        details[`size${size}`] = { ...s, cpuMs, promptMessages: messages };
      }
    } finally {
      await close();
    }
    return { metrics, details };
  },
};
