import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";
import { Api } from "./api";
import { CODER_YML, call, localTerritoryName, removeTempFolders, tempRepo } from "./coding";
import { expect, test } from "./fixtures";
import { ChatPage } from "./pages/chat";

/**
 * Coding tools as directives on the server's own Nexus (CYBROS_LOCAL_NEXUS is on by default, as for a person who
 * runs Cybros): a workspace set to a git repository the test makes, a command streaming into its card until Stop,
 * commands that wait for approval, an edit's diff, and a hook that fails. The mock LLM calls the tools
 * (`/mock tool_calls`, docs/mock-llm.md).
 */

test.afterAll(removeTempFolders);

/** Whether a process whose command line holds `marker` is alive on this machine. */
function running(marker: string): boolean {
  try {
    execFileSync("pgrep", ["-f", marker], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A conversation with a fresh Coder agent, open in the page, its workspace set to a new repository. */
async function coderInRepo(page: Page, baseUrl: string) {
  const api = new Api(page, baseUrl);
  const chat = new ChatPage(page);
  const repo = tempRepo();
  const { id, agentId } = await api.agentConversation(`Coder ${randomUUID().slice(0, 8)}`, {
    "agent.yml": CODER_YML,
  });
  await chat.open(id);
  await chat.send(call("workspace_set", { path: repo }));
  await chat.expectCompletedReply("Tool results: workspace_set:");
  return { api, chat, repo, id, agentId };
}

test("a first command with no workspace set makes a scratch folder, and the header shows it while the run goes on", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const api = new Api(page, instance.url);
  const chat = new ChatPage(page);
  const { id } = await api.agentConversation(`Coder ${randomUUID().slice(0, 8)}`, { "agent.yml": CODER_YML });
  await chat.open(id);
  await expect(chat.composer).toBeEnabled();
  await expect(chat.workspace).toHaveCount(0);

  // Two commands in one turn: the header shows the folder the first made while the second still runs.
  await chat.send(
    `${call("bash", { command: "pwd" })}\nbash ${JSON.stringify({ command: "printf 'second\\n'; sleep 30" })}`,
  );
  const second = chat.latestToolCard;
  await expect(chat.outputPane(second)).toContainText("second");
  await expect(chat.workspace).toContainText("Scratch folder");
  await expect(second).toHaveAttribute("data-tool-state", "running");
  await expect(chat.workspace).toContainText(await localTerritoryName(api));
  await expect(chat.workspace).toHaveAttribute("data-workspace", "");
  await chat.stopButton.click();
  await chat.expectSettled();
  expect(consoleErrors).toEqual([]);
});

test("a command streams into its card while it runs; Stop ends it and its processes", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const { chat, repo, api } = await coderInRepo(page, instance.url);
  // The header says where the coding tools now work: the folder, on the server's own machine.
  await expect(chat.workspace).toHaveAttribute("data-workspace", repo);
  await expect(chat.workspace).toContainText(path.basename(repo));
  await expect(chat.workspace).toContainText(await localTerritoryName(api));
  await expect(chat.workspace.locator("[data-workspace-offline]")).toHaveCount(0);

  // A unique sleep length names the child process; the marker names the shell.
  const marker = `cybros-e2e-${randomUUID().slice(0, 8)}`;
  const nap = `20.${Date.now() % 100_000}`;
  await chat.send(call("bash", { command: `: ${marker}; printf 'line %s\\n' $(seq 1 40); sleep ${nap}` }));
  const card = chat.latestToolCard;
  const pane = chat.outputPane(card);
  // The output is on screen while the command still runs (it sleeps 20 s after printing).
  await expect(pane).toContainText("line 1\nline 2\n");
  await expect(pane).toContainText("line 40");
  await expect(card).toHaveAttribute("data-tool-state", "running");
  await expect(card).toHaveAttribute("open", "");
  await expect(card.getByText(`$ : ${marker};`)).toBeVisible();
  expect(running(marker)).toBe(true);
  expect(running(`sleep ${nap}`)).toBe(true);

  const stopped = Date.now();
  await chat.stopButton.click();
  await expect(card).toHaveAttribute("data-tool-stopped", "true", { timeout: 5_000 });
  await expect(card).toHaveAttribute("data-tool-state", "error");
  await expect(chat.toolSummary(card)).toHaveText("Canceled: the reply was stopped");
  await expect(card.locator("[data-directive-end]")).toHaveText("Canceled");
  await expect.poll(() => running(marker) || running(`sleep ${nap}`), { timeout: 5_000 }).toBe(false);
  expect(Date.now() - stopped).toBeLessThan(8_000);
  await chat.expectSettled();
  // What it printed stays in the card.
  await expect(pane).toContainText("line 40");
  expect(consoleErrors).toEqual([]);
});

test("a command the policy asks about waits for approval: approved it runs, rejected it never does", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const { api, chat, repo, agentId } = await coderInRepo(page, instance.url);
  // This agent's policy asks before any `touch` (the defaults ask about dangerous commands and writes outside
  // the workspace, which a test must not make).
  await api.call("PUT", `/api/policies/agents/${agentId}`, { commands: { ask: ["touch"] } });
  const local = await localTerritoryName(api);

  const approvedFile = path.join(repo, "approved.txt");
  const allow = "touch approved.txt && echo approved-$((6 * 7))";
  await chat.send(call("bash", { command: allow }));
  let card = chat.latestToolCard;
  let panel = chat.approvalPanel(card);
  await expect(panel).toBeVisible();
  await expect(card).toHaveAttribute("data-approval-pending", "true");
  await expect(panel.locator("pre")).toHaveText(allow);
  await expect(panel.getByRole("listitem")).toHaveText(["matches the ask rule touch"]);
  await expect(panel.getByRole("listitem").locator("code")).toHaveText("touch");
  await expect(panel).toContainText(`Runs in the workspace on ${local}`);
  await expect(chat.lastReply.locator('[data-waiting="approval"]')).toHaveText("Waiting for your approval");
  expect(fs.existsSync(approvedFile)).toBe(false);
  await panel.getByRole("button", { name: "Approve" }).click();
  await expect(panel).toBeHidden();
  await expect(card).toHaveAttribute("data-tool-state", "completed");
  await expect(chat.outputPane(card)).toContainText("approved-42");
  await chat.expectCompletedReply("Tool results: bash: approved-42");
  expect(fs.existsSync(approvedFile)).toBe(true);

  const rejectedFile = path.join(repo, "rejected.txt");
  await chat.send(call("bash", { command: "touch rejected.txt" }));
  card = chat.latestToolCard;
  panel = chat.approvalPanel(card);
  await expect(panel).toBeVisible();
  await panel.getByRole("button", { name: "Reject…" }).click();
  await panel.getByLabel(/Why not/).fill("Keep the repository clean");
  await panel.getByRole("button", { name: "Reject", exact: true }).click();
  await expect(panel).toBeHidden();
  await expect(card).toHaveAttribute("data-tool-state", "error");
  await expect(chat.toolSummary(card)).toContainText(/not run|reject|did not allow/i);
  await chat.expectCompletedReply("Tool results: bash:");
  expect(fs.existsSync(rejectedFile)).toBe(false);
  expect(consoleErrors).toEqual([]);
});

test("an edit in the workspace shows its diff in the card", async ({ signedIn: page, instance, consoleErrors }) => {
  const { chat, repo } = await coderInRepo(page, instance.url);
  await chat.send(
    call("edit_file", { path: "notes.txt", old_string: "Call the plumber", new_string: "Call the electrician" }),
  );
  await chat.expectCompletedReply("Tool results: edit_file:");
  const card = chat.latestToolCard;
  await expect(card).toHaveAttribute("data-tool-state", "completed");
  await expect(chat.toolSummary(card)).toHaveText("1 replacement at line 2");
  await card.locator("summary").click();
  const diff = card.locator("[data-diff]");
  await expect(diff).toContainText("notes.txt");
  // Each row: the old and new line numbers, then the sign and the text.
  const rows = (kind: string) => diff.locator(`[data-diff-line="${kind}"]`);
  await expect(rows("del").locator("td")).toHaveText(["2", "", "-Call the plumber"]);
  await expect(rows("add").locator("td")).toHaveText(["", "2", "+Call the electrician"]);
  await expect(rows("context").first().locator("td")).toHaveText(["1", "1", " Buy milk"]);
  expect(fs.readFileSync(path.join(repo, "notes.txt"), "utf8")).toBe("Buy milk\nCall the electrician\n");
  expect(consoleErrors).toEqual([]);
});

test("a hook that fails leaves a quiet warning under the reply, after a reload too, and in its details", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const api = new Api(page, instance.url);
  const chat = new ChatPage(page);
  const { id } = await api.agentConversation(`Moody ${randomUUID().slice(0, 8)}`, {
    "hooks/mood.sh": "#!/bin/sh\necho 'mood service unreachable' >&2\nexit 3\n",
    "agent.yml": `${CODER_YML}hooks:\n  before_inference: hooks/mood.sh\n`,
  });
  await chat.open(id);
  await chat.send("How are you today?");
  await chat.expectCompletedReply("Mock reply: How are you today?");
  const warning = chat.hookWarnings(chat.lastReply);
  const message = "The before_inference hook failed with exit code 3; the turn went on without it.";
  await expect(warning).toHaveCount(1);
  await expect(warning.locator("p")).toHaveText(message);
  await expect(warning.locator("pre")).toBeHidden();
  await warning.getByText("Show what it printed on stderr").click();
  await expect(warning.locator("pre")).toHaveText("mood service unreachable");

  await page.reload();
  await chat.expectCompletedReply("Mock reply: How are you today?");
  await expect(chat.hookWarnings(chat.lastReply).locator("p")).toHaveText(message);

  await chat.lastReply.getByRole("button", { name: "Details" }).click();
  const hook = page.locator('[data-hook-execution="before_inference"]');
  await expect(hook).toContainText("failed");
  await expect(hook).toContainText("exit 3");
  await expect(hook).toContainText("It failed with exit code 3.");
  await expect(hook.locator("pre")).toHaveText("mood service unreachable");
  expect(consoleErrors).toEqual([]);
});
