import { Api, type MockRequest } from "./api";
import { expect, test, uniqueSuffix } from "./fixtures";
import { AgentsPage } from "./pages/agents";
import { ChatPage } from "./pages/chat";

/**
 * agent.yml hooks, run by the server's own Nexus ("This computer") as directives: a before_inference hook's
 * volatile context reaches the model after the stable prompt; a hook that outlives its timeout is left behind and
 * the turn goes on. Scripts are saved through the files API (the editor has no "new file"), agent.yml in the
 * editor; a `#!` line makes a script runnable without its executable bit.
 *
 * "What the model was told" is read from the chat: `/mock system` answers with the request's system text.
 */

const MOOD_HOOK = `#!/bin/sh
cat >/dev/null
cat <<'JSON'
{"context": "Today's mood: sunny"}
JSON
`;

const SLEEPY_HOOK = `#!/bin/sh
echo 'about to nap' >&2
sleep 30
`;

/** In the agent page's editor: agent.yml with `lines` added at its end, saved (validated and committed). */
async function addToManifest(agents: AgentsPage, lines: string, message: string) {
  await agents.openFile("agent.yml");
  const manifest = await agents.editor("agent.yml").inputValue();
  await agents.editAndSave("agent.yml", `${manifest.trimEnd()}\n\n${lines}`, message);
  await expect(
    agents
      .editor("agent.yml")
      .page()
      .getByText(/^Saved agent\.yml as [0-9a-f]{7}$/),
  ).toBeVisible();
}

test("a before_inference hook's volatile context changes the reply, after the stable prompt", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const api = new Api(page, instance.url);
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  await api.waitForLocalNexus();
  const name = `Moody ${uniqueSuffix()}`;
  await agents.open();
  const agentId = await agents.createFrom({ blank: true }, name);
  await api.saveAgentFile(agentId, "hooks/mood.sh", MOOD_HOOK, "Add a mood hook");

  // Without the hook declared, the model is told nothing about the mood.
  await agents.startConversation(name);
  await chat.send("/mock system\nHow is the mood?");
  await chat.expectCompletedReply(`You are ${name}.`);
  await expect(chat.lastReply).not.toContainText("Today's mood");
  const conversationUrl = page.url();

  await page.goto(`/agents/${agentId}`);
  await addToManifest(agents, "hooks:\n  before_inference: hooks/mood.sh\n", "Run the mood hook before every call");

  await page.goto(conversationUrl);
  await chat.send("/mock system\nHow is the mood now?");
  await chat.expectCompletedReply("Today's mood: sunny");

  // The mock's log: the hook's text is the last message, after the conversation; the stable prefix is unchanged.
  const requests = (await api.mockRequests(200)) as (MockRequest & { messages: { role: string; content: string }[] })[];
  const asked = (text: string) =>
    requests.filter((r) => r.messages.some((m) => m.role === "user" && String(m.content).includes(text)));
  const before = asked("How is the mood?").at(0)!;
  const after = asked("How is the mood now?").at(-1)!;
  expect(after.messages.at(-1)).toEqual({ role: "system", content: "Today's mood: sunny" });
  expect(after.messages[0]).toEqual(before.messages[0]);
  expect(String(before.messages[0]!.content)).not.toContain("mood");

  // The reply's run records the hook's execution (GET /api/runs/:id, what reply details read).
  const [latest] = (await api.messages(new URL(conversationUrl).pathname.split("/").pop()!)).slice(-1);
  const detail = await api.runDetail(latest!.runId!);
  expect(detail.hooks).toMatchObject([
    { hook: "before_inference", state: "succeeded", exitCode: 0, output: { context: "Today's mood: sunny" } },
  ]);
  expect(detail.hooks[0]!.warning).toBeNull();
  expect(consoleErrors).toEqual([]);
});

test("a hook that sleeps past its timeout lets the turn go on, with a warning", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const api = new Api(page, instance.url);
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  await api.waitForLocalNexus();
  const name = `Sleepy ${uniqueSuffix()}`;
  await agents.open();
  const agentId = await agents.createFrom({ blank: true }, name);
  await api.saveAgentFile(agentId, "hooks/sleepy.sh", SLEEPY_HOOK, "Add a slow hook");
  await page.reload();
  await addToManifest(
    agents,
    "hooks:\n  before_inference: hooks/sleepy.sh\n  timeout_seconds: 1\n",
    "Run the slow hook, for at most a second",
  );

  await agents.startConversation(name);
  const sent = Date.now();
  await chat.send("Are you awake?");
  await chat.expectCompletedReply("Mock reply: Are you awake?");
  // Well before the hook's 30 s sleep would have ended.
  expect(Date.now() - sent).toBeLessThan(20_000);

  // The warning, as the server recorded it: the run's hook entry and the conversation's hook_warning event.
  // (The chat does not show hook warnings yet; they are asserted through the API the page reads.)
  const conversationId = new URL(page.url()).pathname.split("/").pop()!;
  const [reply] = (await api.messages(conversationId)).slice(-1);
  const { hooks } = await api.runDetail(reply!.runId!);
  expect(hooks).toMatchObject([
    { hook: "before_inference", state: "timed_out", warning: "timed out after 1 s", output: null },
  ]);
  expect(hooks[0]!.stderr).toMatch(/^about to nap\n/);
  const warnings = (await api.events(conversationId)).filter((event) => event.kind === "hook_warning");
  expect(warnings.map((event) => event.payload.message)).toEqual([
    "The before_inference hook timed out after 1 s; the turn went on without it.",
  ]);
  expect(warnings[0]!.run_id).toBe(reply!.runId);

  // The model was told nothing from the hook.
  const requests = (await api.mockRequests(50)) as (MockRequest & { messages: { role: string; content: string }[] })[];
  const request = requests.findLast((r) => r.messages.some((m) => m.content === "Are you awake?"))!;
  expect(request.messages.at(-1)).toEqual({ role: "user", content: "Are you awake?" });
  expect(consoleErrors).toEqual([]);
});
