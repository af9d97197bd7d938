import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Locator, Page } from "@playwright/test";
import { freePort } from "../apps/server/src/testing/ports";
import { Api } from "./api";
import { collectErrors, expect, OWNER, test } from "./fixtures";
import { Instance } from "./instance";
import { ChatPage } from "./pages/chat";

/**
 * The coder agent fixes a failing test in a real git repository made by the test, through the embedded local
 * Nexus, the mock LLM scripting the model: it sets the workspace, reads the test, runs the tests (red), edits the
 * source, runs them again (green) and commits. Later turns name no path and still work there, after a server
 * restart too. On an instance of its own with a fixed port, so the open page survives the restart.
 */

/** A project whose one test fails: `add` subtracts. Committed, with an identity of its own. */
function sampleProject(): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "cybros-coder-")));
  const files: Record<string, string> = {
    "package.json": `${JSON.stringify({ name: "sample", version: "1.0.0", private: true, scripts: { test: "node --test" } }, null, 2)}\n`,
    "src/add.js": "function add(a, b) {\n  return a - b;\n}\n\nmodule.exports = { add };\n",
    "test/add.test.js": [
      'const test = require("node:test");',
      'const assert = require("node:assert");',
      'const { add } = require("../src/add");',
      "",
      'test("add(2, 3) is 5", () => {',
      "  assert.strictEqual(add(2, 3), 5);",
      "});",
      "",
    ].join("\n"),
  };
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("config", "user.name", "Sample Person");
  git("config", "user.email", "sample@example.com");
  git("add", ".");
  git("commit", "-qm", "Add add()");
  return root;
}

/**
 * Saves the page at a phone, a tablet and a desktop size when SHOTS_DIR names a folder (for people to look at), the
 * message list scrolled to each of `targets` in turn (the page itself does not scroll; its message list does).
 */
async function shoot(page: Page, targets: Record<string, Locator>) {
  const dir = process.env.SHOTS_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  for (const [width, height] of [
    [390, 844],
    [820, 1180],
    [1440, 900],
  ] as const) {
    await page.setViewportSize({ width, height });
    for (const [name, target] of Object.entries(targets)) {
      await target.evaluate((element) => element.scrollIntoView({ block: "start" }));
      await page.screenshot({ path: path.join(dir, `${name}-${width}x${height}.png`) });
    }
  }
}

test("coder: reads, runs the tests red, edits, runs them green, commits; later turns (and a restart) keep the workspace", async ({
  browser,
}) => {
  test.setTimeout(150_000); // two cold starts on a loaded machine
  const project = sampleProject();
  const instance = await new Instance(undefined, { PORT: String(await freePort()) }).start();
  // A context of its own: the `page` fixture would start the worker's shared instance for nothing.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const page = await context.newPage();
    const consoleErrors = collectErrors(page);
    const api = new Api(page, instance.url);
    await api.call("POST", "/api/setup", { ...OWNER, passwordConfirmation: OWNER.password }, [201]);
    const { agents } = await api.call<{ agents: { id: string; profileSource: string }[] }>("GET", "/api/agents");
    const coder = agents.find((agent) => agent.profileSource === "bundled:coder")!;
    const { id } = await api.call<{ id: string }>("POST", "/api/conversations", { agentProgramId: coder.id });

    // One turn of the model, step by step: each request of the run plays the next step.
    const scenario = `fix-${randomUUID()}`;
    const call = (name: string, args: Record<string, unknown>) => ({
      reply: "tool_calls",
      calls: [{ name, arguments: args }],
    });
    await api.defineScenario(scenario, [
      call("workspace_set", { path: project }),
      call("read_file", { path: "test/add.test.js" }),
      call("bash", { command: "npm test" }),
      call("edit_file", { path: "src/add.js", old_string: "a - b", new_string: "a + b" }),
      call("bash", { command: "npm test" }),
      call("git_commit", { message: "Fix add(): it subtracted" }),
      { reply: "text", text: "Fixed: `add` subtracted. The test passes now, and the fix is committed." },
    ]);

    const chat = new ChatPage(page);
    await page.goto(`${instance.url}/conversations/${id}`);
    await expect(chat.composer).toBeVisible();
    await chat.send(`/mock scenario name=${scenario}\nThe test fails in ${project}: fix it and commit.`);
    await chat.expectCompletedReply("The test passes now", 60_000);

    const cards = chat.messages.locator("details[data-tool-call]");
    const card = (title: string) => cards.filter({ has: page.locator("[data-tool-title]", { hasText: title }) });
    await expect(cards).toHaveCount(6);
    await expect(cards.locator("[data-tool-title]")).toHaveText([
      `Set the workspace to ${project}`,
      "Read test/add.test.js",
      "Ran `npm test`",
      "Edited src/add.js",
      "Ran `npm test`",
      "Committed “Fix add(): it subtracted”",
    ]);
    await expect(chat.toolSummary(card("Set the workspace"))).toHaveText(`Workspace: ${project} on ${os.hostname()}`);

    // The test file, lines and all, one click away.
    const read = card("Read test/add.test.js");
    await expect(chat.toolSummary(read)).toHaveText("Lines 1-7 of 7");
    await read.locator("summary").click();
    await expect(read.locator("pre").first()).toContainText("assert.strictEqual(add(2, 3), 5);");

    // Red, then green: each run's card opened itself and shows the command, its output and how it ended.
    const [red, green] = [card("Ran `npm test`").nth(0), card("Ran `npm test`").nth(1)];
    await expect(red).toHaveAttribute("data-tool-state", "error");
    await expect(chat.toolSummary(red)).toHaveText(/^Failed: Exit 1 · /);
    await expect(red.getByRole("log", { name: "Output" })).toContainText("not ok 1 - add(2, 3) is 5");
    await expect(red.getByRole("log", { name: "Output" })).toContainText("# fail 1");
    await expect(red.locator("[data-directive-end]")).toHaveText("Exit code 1");
    await expect(green).toHaveAttribute("data-tool-state", "completed");
    await expect(chat.toolSummary(green)).toHaveText(/^Exit 0 · /);
    await expect(green.getByRole("log", { name: "Output" })).toContainText("ok 1 - add(2, 3) is 5");
    await expect(green.getByRole("log", { name: "Output" })).toContainText("# fail 0");
    await expect(green.locator("[data-directive-end]")).toHaveText("Exit code 0");

    // The edit as a diff.
    const edit = card("Edited src/add.js");
    await expect(chat.toolSummary(edit)).toHaveText("1 replacement at line 2");
    await edit.locator("summary").click();
    await expect(edit).toContainText("return a - b;");
    await expect(edit).toContainText("return a + b;");

    // The commit, on disk.
    const commit = card("Committed");
    await expect(chat.toolSummary(commit)).toHaveText(/^[0-9a-f]{7,} · 1 file changed, \+1 −1$/);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: project, encoding: "utf8" });
    expect(git("log", "--format=%s").trim().split("\n")).toEqual(["Fix add(): it subtracted", "Add add()"]);
    expect(git("show", "HEAD:src/add.js")).toContain("return a + b;");
    expect(git("status", "--porcelain")).toBe("");
    const head = git("rev-parse", "--short", "HEAD").trim();
    await expect(chat.toolSummary(commit)).toHaveText(new RegExp(`^${head}`));
    // The model read every result: its last request held the green run and the commit.
    const [last] = await api.mockRequests(1);
    const said = JSON.stringify(last!.messages);
    expect(said).toContain("# fail 0");
    expect(said).toContain(`Committed ${head} on main`);

    const detail = await api.call<{ workspace: { path: string; online: boolean } | null }>(
      "GET",
      `/api/conversations/${id}`,
    );
    expect(detail.workspace).toMatchObject({ path: project, online: true });

    // A second turn names no path: the workspace holds.
    await chat.send("/mock tool_calls\ngit_log {}");
    await chat.expectCompletedReply("Tool results: git_log:");
    await expect(chat.lastReply).toContainText("Fix add(): it subtracted");
    await expect(chat.toolSummary(card("Viewed history"))).toHaveText("2 commits");

    // After a restart too.
    await instance.restart();
    await chat.send('/mock tool_calls\nread_file {"path": "src/add.js"}');
    await chat.expectCompletedReply("Tool results: read_file:", 60_000);
    await expect(chat.lastReply).toContainText("return a + b;");
    await expect(chat.toolSummary(card("Read src/add.js"))).toHaveText("Lines 1-5 of 5");

    // Bringing a card to the top of the view (a link to it, find in page) scrolls the message list, never the app's
    // frame: the cards' screen-reader labels lie outside the list's clip, and the frame once scrolled by the header's
    // height to reach them, leaving no header and a gap under the composer.
    await red.evaluate((element) => element.scrollIntoView({ block: "start" }));
    await expect(red.locator("summary")).toBeInViewport();
    expect(await page.locator("main").evaluate((main) => main.getBoundingClientRect().top)).toBe(0);

    await shoot(page, {
      "coder-1-start": chat.userMessages.first(),
      "coder-2-red": red,
      "coder-3-green": green,
      "coder-4-later": chat.userMessages.nth(1),
    });

    // While the server was down, the page's requests failed as a network failure does, and nothing else.
    const down =
      /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_SOCKET_NOT_CONNECTED|ERR_INCOMPLETE_CHUNKED_ENCODING/;
    expect(consoleErrors.filter((e) => !down.test(e))).toEqual([]);
  } finally {
    await context.close();
    await instance.dispose();
    fs.rmSync(project, { recursive: true, force: true });
  }
});
