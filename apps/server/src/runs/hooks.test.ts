import fs from "node:fs";
import path from "node:path";
import type { EventOf, HookExecution, MessagePart, ToolCallPart } from "@cybros/protocol";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { defaultAccount } from "../accounts/index.js";
import { checkAgentHealth } from "../agents/health.js";
import { directives, territories } from "../db/schema.js";
import type { MockRequestRecord } from "../mock-llm/index.js";
import { EventStreamReader } from "../testing/events.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { type LocalNexus, withLocalNexus } from "../testing/local-nexus.js";
import { availableToolNames } from "../tools/registry.js";

/**
 * Custom tools and hooks end to end: blank agents whose folders the tests write, a real `cybros-nexus` as the
 * local territory running their scripts, the mock LLM scripting the model.
 */
let server: TestServer;
let client: TestClient;
let nexus: LocalNexus;
const readers: EventStreamReader[] = [];

beforeAll(async () => {
  ({ server, client } = await startSignedIn());
  nexus = await withLocalNexus(server);
});
afterEach(() => {
  for (const reader of readers.splice(0)) reader.close();
});
afterAll(async () => {
  await nexus?.stop();
  await server?.close();
});

const ROLL_DICE_YML = `description: Roll a die with the given number of sides.
parameters:
  type: object
  properties:
    sides:
      type: integer
      minimum: 2
      maximum: 1000
  required: [sides]
  additionalProperties: false
`;

// Written without its executable bit: the #! line says how to run it. Leaves a marker each time it runs.
const ROLL_DICE_SCRIPT = `#!/usr/bin/env node
import fs from "node:fs";
const args = JSON.parse(fs.readFileSync(0, "utf8"));
const fromEnv = JSON.parse(process.env.CYBROS_TOOL_INPUT);
fs.appendFileSync(".roll_dice-ran", "x");
const value = 1 + Math.floor(Math.random() * args.sides);
console.log("this stdout is not the result: the output file is");
fs.writeFileSync(process.env.CYBROS_TOOL_OUTPUT, JSON.stringify({ sides: fromEnv.sides, value, summary: \`Rolled \${value}\` }));
`;

/** A blank agent with `files` written into its folder and agent.yml changed by `manifest`, and a conversation. */
async function agentWith(
  name: string,
  files: Record<string, string | { text: string; mode: number }>,
  manifest: (doc: Record<string, unknown>) => void = () => {},
) {
  const created = await client.post("/api/agents", { name, blank: true });
  expect(created.status).toBe(201);
  const agent = await created.json();
  const folder = path.join(server.config.dataDir, "agents", name.toLowerCase());
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
    const { text, mode } = typeof content === "string" ? { text: content, mode: 0o644 } : content;
    fs.writeFileSync(path.join(folder, file), text, { mode });
  }
  const yml = path.join(folder, "agent.yml");
  const doc = YAML.parse(fs.readFileSync(yml, "utf8"));
  manifest(doc);
  fs.writeFileSync(yml, YAML.stringify(doc));
  const conversation = await client.post("/api/conversations", { agentProgramId: agent.id });
  expect(conversation.status).toBe(201);
  const id = (await conversation.json()).id as string;
  const events = await EventStreamReader.open(client, id, 0);
  readers.push(events);
  return { id, events, folder, agentId: agent.id as string };
}

const executable = (text: string) => ({ text, mode: 0o755 });

async function send(conversationId: string, content: string) {
  const response = await client.post(`/api/conversations/${conversationId}/messages`, { content });
  expect(response.status).toBe(202);
}

async function toolCards(conversationId: string): Promise<ToolCallPart[]> {
  const page = await (await client.get(`/api/conversations/${conversationId}/messages?limit=200`)).json();
  return (page.messages as { parts: MessagePart[] }[])
    .flatMap((m) => m.parts)
    .filter((p): p is ToolCallPart => p.type === "tool_call");
}

async function succeededRun(events: EventStreamReader, count: number): Promise<string> {
  const ended = await events.runsEnded(count);
  const last = ended.at(-1) as EventOf<"run_succeeded">;
  expect(last.kind).toBe("run_succeeded");
  return last.payload.run.id;
}

async function runDetail(runId: string) {
  const response = await client.get(`/api/runs/${runId}`);
  expect(response.status).toBe(200);
  return response.json() as Promise<{ hooks: HookExecution[]; llmCalls: { usage: Record<string, number> }[] }>;
}

/** The messages page carries the warnings the stream said, so a reloaded page shows them too. */
async function expectWarningsOnPage(conversationId: string, events: EventStreamReader) {
  const said = events.events
    .filter((e): e is EventOf<"hook_warning"> => e.kind === "hook_warning")
    .map((e) => ({ ...e.payload, runId: e.run_id, nodeId: e.node_id }));
  expect(said.length).toBeGreaterThan(0);
  const page = await (await client.get(`/api/conversations/${conversationId}/messages?limit=200`)).json();
  expect(page.hookWarnings).toEqual(said);
}

/** The chat requests the mock received for a conversation whose messages carry `marker`. */
function chatRequests(marker: string): MockRequestRecord[] {
  return server.services
    .mockLlm!.requests()
    .filter((r) => r.stream && r.messages.some((m) => m.role === "user" && String(m.content).includes(marker)));
}

describe("custom tools", () => {
  it("roll_dice answers structured JSON, run in the agent's folder by the local Nexus", async () => {
    const { id, events } = await agentWith(
      "Dicer",
      { "tools/roll_dice.yml": ROLL_DICE_YML, "tools/roll_dice.mjs": ROLL_DICE_SCRIPT },
      (doc) => {
        (doc.tools as Record<string, unknown>).custom = ["roll_dice"];
      },
    );
    await send(id, '/mock tool_calls\nroll_dice {"sides": 20}');
    await succeededRun(events, 1);

    const [card] = await toolCards(id);
    expect(card).toMatchObject({ name: "roll_dice", state: "completed", title: "Roll dice" });
    expect(card!.directive).toMatchObject({ territory: "This computer" });
    const result = JSON.parse(card!.result as string);
    expect(result.sides).toBe(20);
    expect(result.value).toBeGreaterThanOrEqual(1);
    expect(result.value).toBeLessThanOrEqual(20);
    expect(card!.summary).toBe(`Rolled ${result.value}`);
    // The model was offered the tool with its schema as written, and read the result.
    const [offer, followUp] = chatRequests("roll_dice {");
    const spec = (offer!.tools as { function: { name: string; parameters: unknown } }[]).find(
      (t) => t.function.name === "roll_dice",
    );
    expect(spec!.function.parameters).toEqual(YAML.parse(ROLL_DICE_YML).parameters);
    expect(followUp!.messages.find((m) => m.role === "tool")!.content).toBe(card!.result);
  });

  it("refuses arguments that do not fit the schema before the script runs", async () => {
    const { id, events, folder } = await agentWith(
      "Strictdicer",
      { "tools/roll_dice.yml": ROLL_DICE_YML, "tools/roll_dice.mjs": ROLL_DICE_SCRIPT },
      (doc) => {
        (doc.tools as Record<string, unknown>).custom = ["roll_dice"];
      },
    );
    const before = await server.services.db.select().from(directives);
    await send(id, '/mock tool_calls\nroll_dice {"sides": "twenty"}\nroll_dice {"sides": 6, "cheat": true}');
    await succeededRun(events, 1);

    const cards = await toolCards(id);
    expect(cards.map((c) => c.state)).toEqual(["error", "error"]);
    expect(cards[0]!.error).toMatch(/^Invalid arguments: sides: /);
    expect(cards[1]!.error).toMatch(/^Invalid arguments: /);
    expect(fs.existsSync(path.join(folder, ".roll_dice-ran"))).toBe(false);
    expect(await server.services.db.select().from(directives)).toHaveLength(before.length);
  });
});

describe("hooks", () => {
  it("before_inference adds volatile context after the stable prefix; on_conversation_start runs once", async () => {
    const { id, events } = await agentWith(
      "Moody",
      {
        "hooks/mood.mjs": executable(`#!/usr/bin/env node
import fs from "node:fs";
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const same = JSON.stringify(input) === process.env.CYBROS_HOOK_INPUT;
fs.writeFileSync(process.env.CYBROS_HOOK_OUTPUT, JSON.stringify({
  context: "Today's mood: sunny (" + input.event + " before call " + input.model_call + " of: " + input.message + ", same input: " + same + ")",
}));
`),
        "hooks/start.sh": executable(`#!/bin/sh
cat >/dev/null
echo '{"context": "This conversation just started."}'
`),
      },
      (doc) => {
        doc.hooks = { before_inference: "hooks/mood.mjs", on_conversation_start: "hooks/start.sh" };
      },
    );
    await send(id, "First mood check");
    const firstRun = await succeededRun(events, 1);
    await send(id, "Second mood check");
    const secondRun = await succeededRun(events, 2);

    const [first] = chatRequests("First mood check");
    const [second] = chatRequests("Second mood check");
    const stable = first!.messages[0]!;
    expect(stable.role).toBe("system");
    expect(String(stable.content)).not.toContain("mood");
    // The hooks' text is the last message, after the conversation: the prefix before it is the same every turn.
    expect(first!.messages.at(-1)).toEqual({
      role: "system",
      content:
        "This conversation just started.\n\nToday's mood: sunny (before_inference before call 0 of: First mood check, same input: true)",
    });
    expect(second!.messages.at(-1)).toEqual({
      role: "system",
      content: "Today's mood: sunny (before_inference before call 0 of: Second mood check, same input: true)",
    });
    expect(second!.messages[0]).toEqual(stable);
    expect(second!.messages.slice(0, first!.messages.length - 1)).toEqual(first!.messages.slice(0, -1));
    // Everything the first request sent but its hook text is cached for the second.
    const volatileTokens = Math.ceil(JSON.stringify(first!.messages.at(-1)).length / 4);
    expect(second!.cachedTokens).toBeGreaterThanOrEqual(first!.promptTokens - volatileTokens - 1);

    const detail = await runDetail(firstRun);
    expect(detail.hooks.map((h) => [h.hook, h.state, h.exitCode, h.warning])).toEqual([
      ["on_conversation_start", "succeeded", 0, null],
      ["before_inference", "succeeded", 0, null],
    ]);
    expect(detail.hooks[0]!.output).toEqual({ context: "This conversation just started." });
    expect((await runDetail(secondRun)).hooks.map((h) => h.hook)).toEqual(["before_inference"]);
    expect(events.events.filter((e) => e.kind === "hook_warning")).toEqual([]);
  });

  it("before_inference sets variables and narrows the tools; a persona is ignored with a warning", async () => {
    const { id, events } = await agentWith(
      "Narrow",
      {
        "hooks/narrow.sh": executable(`#!/bin/sh
echo '{"variables": {"agent": {"name": "Narrowed"}}, "tools": ["agent_log", "web_search"], "persona": "pirate"}'
`),
      },
      (doc) => {
        doc.hooks = { before_inference: "hooks/narrow.sh" };
      },
    );
    await send(id, "Which tools do you have?");
    await succeededRun(events, 1);
    const [request] = chatRequests("Which tools do you have?");
    expect(String(request!.messages[0]!.content)).toContain("You are Narrowed.");
    expect(request!.tools.map((t) => (t as { function: { name: string } }).function.name)).toEqual(["agent_log"]);
    const warning = await events.waitForKind("hook_warning");
    expect(warning.payload.message).toContain("persona");
    await expectWarningsOnPage(id, events);
  });

  it("a hook that sleeps past its timeout, or fails, lets the turn go on with a warning", async () => {
    const { id, events } = await agentWith(
      "Sleepy",
      {
        "hooks/sleepy.sh": executable("#!/bin/sh\necho 'about to nap' >&2\nsleep 30\n"),
        "hooks/broken.sh": executable("#!/bin/sh\necho 'no tool for you' >&2\nexit 3\n"),
      },
      (doc) => {
        doc.hooks = { before_inference: "hooks/sleepy.sh", after_tool_call: "hooks/broken.sh", timeout_seconds: 1 };
      },
    );
    const started = Date.now();
    await send(id, "/mock tool_calls\nagent_log {}");
    const runId = await succeededRun(events, 1);
    expect(Date.now() - started).toBeLessThan(20_000);

    const warnings = events.events.filter((e): e is EventOf<"hook_warning"> => e.kind === "hook_warning");
    expect(warnings.map((w) => [w.payload.hook, w.payload.message])).toEqual([
      ["before_inference", "The before_inference hook timed out after 1 s; the turn went on without it."],
      ["after_tool_call", "The after_tool_call hook failed with exit code 3; the turn went on without it."],
      ["before_inference", "The before_inference hook timed out after 1 s; the turn went on without it."],
    ]);
    expect(warnings[0]!.payload.stderr).toMatch(/^about to nap\n/);
    expect(warnings[1]!.payload.stderr).toBe("no tool for you\n");
    const [card] = await toolCards(id);
    expect(warnings[1]!.node_id).toBe(card!.id);
    expect(card).toMatchObject({ name: "agent_log", state: "completed" });

    const { hooks } = await runDetail(runId);
    expect(hooks.map((h) => [h.hook, h.state, h.exitCode])).toEqual([
      ["before_inference", "timed_out", 124],
      ["after_tool_call", "failed", 3],
      ["before_inference", "timed_out", 124],
    ]);
    expect(hooks[1]!.toolCallNodeId).toBe(card!.id);
    await expectWarningsOnPage(id, events);
  });

  it("after_tool_call annotates a result before the model reads it", async () => {
    const { id, events } = await agentWith(
      "Annotated",
      {
        "tools/roll_dice.yml": ROLL_DICE_YML,
        "tools/roll_dice.mjs": ROLL_DICE_SCRIPT,
        "hooks/after.mjs": executable(`#!/usr/bin/env node
import fs from "node:fs";
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const rolled = JSON.parse(input.tool_result.output).value;
console.log(JSON.stringify({ annotation: "Checked by the hook: " + input.tool_call.name + " rolled " + rolled + " of " + input.tool_call.arguments.sides }));
`),
      },
      (doc) => {
        (doc.tools as Record<string, unknown>).custom = ["roll_dice"];
        doc.hooks = { after_tool_call: "hooks/after.mjs" };
      },
    );
    await send(id, '/mock tool_calls\nroll_dice {"sides": 6}');
    const runId = await succeededRun(events, 1);

    const [card] = await toolCards(id);
    const [json, note] = (card!.result as string).split("\n\n");
    const { value } = JSON.parse(json!);
    expect(note).toBe(`Checked by the hook: roll_dice rolled ${value} of 6`);
    const followUp = chatRequests('roll_dice {"sides": 6}')[1]!;
    expect(followUp.messages.find((m) => m.role === "tool")!.content).toBe(card!.result);
    const { hooks } = await runDetail(runId);
    expect(hooks).toMatchObject([{ hook: "after_tool_call", state: "succeeded", toolCallNodeId: card!.id }]);
  });

  it("without a local machine, hooks are skipped with a warning and the turn goes on", async () => {
    const { id, events } = await agentWith(
      "Offline",
      { "hooks/mood.sh": executable('#!/bin/sh\necho \'{"context": "never"}\'\n') },
      (doc) => {
        doc.hooks = { before_inference: "hooks/mood.sh" };
      },
    );
    // The account has no local territory while this runs.
    const local = (value: boolean) =>
      server.services.db.update(territories).set({ local: value }).where(eq(territories.id, nexus.territoryId));
    await local(false);
    try {
      await send(id, "Anyone there?");
      const runId = await succeededRun(events, 1);
      const warning = await events.waitForKind("hook_warning");
      expect(warning.payload.message).toBe(
        "The before_inference hook could not run: no local machine is set up to run hooks on (System settings → " +
          "Territories); the turn went on without it.",
      );
      const [request] = chatRequests("Anyone there?");
      expect(request!.messages.at(-1)!.role).toBe("user");
      expect((await runDetail(runId)).hooks).toMatchObject([{ hook: "before_inference", state: "skipped" }]);
      await expectWarningsOnPage(id, events);
    } finally {
      await local(true);
    }
  });
});

describe("the health check", () => {
  it("fails on a listed custom tool without an executable, and on a hook that cannot run", async () => {
    const { folder } = await agentWith("Checked", { "tools/roll_dice.yml": ROLL_DICE_YML }, (doc) => {
      (doc.tools as Record<string, unknown>).custom = ["roll_dice"];
    });
    const account = await defaultAccount(server.services.db);
    const check = () => checkAgentHealth(server.services, account, { localPath: folder }, availableToolNames());
    expect(await check()).toEqual({
      ok: false,
      step: "tools",
      failure: "tools/roll_dice.yml: has no executable beside it (tools/roll_dice.*)",
    });

    fs.writeFileSync(path.join(folder, "tools/roll_dice.mjs"), ROLL_DICE_SCRIPT);
    const yml = path.join(folder, "agent.yml");
    const doc = YAML.parse(fs.readFileSync(yml, "utf8"));
    doc.hooks = { before_inference: "hooks/missing.sh", after_tool_call: "hooks/plain.txt" };
    fs.mkdirSync(path.join(folder, "hooks"));
    fs.writeFileSync(path.join(folder, "hooks/plain.txt"), "not a script\n");
    fs.writeFileSync(yml, YAML.stringify(doc));
    expect(await check()).toEqual({
      ok: false,
      step: "hooks",
      failure: "agent.yml: hooks.before_inference: hooks/missing.sh: is missing",
    });
    doc.hooks = { after_tool_call: "hooks/plain.txt" };
    fs.writeFileSync(yml, YAML.stringify(doc));
    expect(await check()).toMatchObject({
      ok: false,
      failure:
        "agent.yml: hooks.after_tool_call: hooks/plain.txt: is not executable (set its executable bit, or start it with a #! line)",
    });

    fs.writeFileSync(path.join(folder, "tools/roll_dice.yml"), "description: [broken\n");
    delete doc.hooks;
    fs.writeFileSync(yml, YAML.stringify(doc));
    expect(await check()).toMatchObject({
      ok: false,
      step: "tools",
      failure: expect.stringMatching(/^tools\/roll_dice\.yml: line \d+: /),
    });

    fs.writeFileSync(path.join(folder, "tools/roll_dice.yml"), ROLL_DICE_YML);
    expect(await check()).toMatchObject({ ok: true });
  });
});
