import path from "node:path";
import type { Browser, Page } from "@playwright/test";
import { Api } from "./api";
import { CODER_YML, call, removeTempFolders, tempRepo } from "./coding";
import { expect as baseExpect, test } from "./fixtures";
import { ChatPage } from "./pages/chat";

/**
 * Screenshots of every page, and of the coding tools' cards, at a phone, a tablet and a desktop size, into
 * test-results/screenshots/ (or SCREENSHOTS_DIR), for people to look at before closing UI work. Not an assertion
 * suite, and about a minute of work each, so it runs only when asked:
 * `SCREENSHOTS=1 npx playwright test e2e/screenshots.spec.ts`.
 */

const SIZES = [
  { name: "phone", width: 390, height: 844 },
  { name: "tablet", width: 820, height: 1180 },
  { name: "desktop", width: 1440, height: 900 },
] as const;

// Pictures, not checks: waits are roomy so a loaded machine does not lose the run.
const expect = baseExpect.configure({ timeout: 30_000 });

const OUT = process.env.SCREENSHOTS_DIR ?? path.join(import.meta.dirname, "../test-results/screenshots");

/** Waits for skeletons and spinners to go, then saves `<size>-<name>.png`. */
async function shoot(page: Page, size: string, name: string) {
  await expect(page.locator(".animate-pulse, .animate-spin")).toHaveCount(0, { timeout: 20_000 });
  await page.screenshot({ path: path.join(OUT, `${size}-${name}.png`), fullPage: true, animations: "disabled" });
}

async function sizedPage(browser: Browser, baseURL: string, size: (typeof SIZES)[number], state?: string) {
  const phone = size.width < 500;
  const context = await browser.newContext({
    baseURL,
    viewport: { width: size.width, height: size.height },
    isMobile: phone,
    hasTouch: phone,
    storageState: state ? JSON.parse(state) : undefined,
  });
  return context.newPage();
}

const REASON = "only with SCREENSHOTS=1: it asserts nothing and takes a minute, so the default run leaves it out";

// The reason is in the title too, so the list reporter prints it beside the skipped test.
test.describe(`screenshots (${REASON})`, () => {
  test.skip(process.env.SCREENSHOTS !== "1", REASON);

  test("every page at phone, tablet and desktop sizes", async ({ signedIn: page, apiRequest, instance, browser }) => {
    test.setTimeout(240_000);

    // A conversation with a tool card and a markdown reply; the bundled agent's id.
    const { agents } = await (await apiRequest.get("/api/agents")).json();
    const agent = agents.find((a: { name: string }) => a.name === "Default Assistant");
    const conversation = await (
      await apiRequest.post("/api/conversations", { data: { agentProgramId: agent.id } })
    ).json();
    const chat = new ChatPage(page);
    await chat.open(conversation.id);
    await chat.send('/mock tool_calls\nmemory_store {"content":"The user drinks green tea every morning"}');
    await chat.expectCompletedReply("Tool results: memory_store:");
    await chat.send("/mock markdown\nShow me what you can format");
    await chat.expectCompletedReply(/./);
    await apiRequest.patch(`/api/conversations/${conversation.id}`, {
      data: { title: "Tea preferences and formatting" },
    });
    const state = JSON.stringify(await page.context().storageState());

    for (const size of SIZES) {
      const visitor = await sizedPage(browser, instance.url, size);
      await visitor.goto("/");
      await expect(visitor.getByRole("heading", { level: 1 })).toBeVisible();
      await shoot(visitor, size.name, "01-landing");
      await visitor.goto("/login");
      await expect(visitor.getByRole("button", { name: "Sign in" })).toBeVisible();
      await shoot(visitor, size.name, "02-login");
      await visitor.context().close();

      const user = await sizedPage(browser, instance.url, size, state);
      const main = user.getByRole("main");
      await user.goto("/dashboard");
      await expect(user.getByRole("heading", { name: "Recent conversations" })).toBeVisible();
      await shoot(user, size.name, "03-dashboard");

      await user.goto("/conversations");
      await expect(main.getByRole("button", { name: "Agent: Default Assistant. Choose another agent" })).toBeVisible();
      await shoot(user, size.name, "04-conversations");
      if (size.name === "phone") {
        await user.getByRole("button", { name: "Open sidebar" }).click();
        await expect(user.getByRole("dialog", { name: "Sidebar" })).toBeVisible();
        await shoot(user, size.name, "04b-conversations-drawer");
        await user.keyboard.press("Escape");
      }

      await user.goto(`/conversations/${conversation.id}`);
      const shown = new ChatPage(user);
      await expect(shown.lastReply).toHaveAttribute("data-indicator", "completed");
      await shoot(user, size.name, "05-conversation");
      await shown.toolCard(shown.replies, "memory_store").locator("summary").click();
      await shown.toolCard(shown.replies, "memory_store").scrollIntoViewIfNeeded();
      await shoot(user, size.name, "05b-conversation-tool-card");
      await user.getByRole("button", { name: "Details" }).last().click();
      await expect(user.getByRole("heading", { name: "Reply details" })).toBeVisible();
      await shoot(user, size.name, "05c-conversation-inspector");

      await user.goto("/agents");
      await expect(main.getByRole("link", { name: "Default Assistant", exact: true })).toBeVisible();
      await shoot(user, size.name, "06-agents");

      await user.goto(`/agents/${agent.id}`);
      await expect(user.getByRole("navigation", { name: "Agent files" })).toBeVisible();
      await shoot(user, size.name, "07-agent-detail");

      await user.goto("/settings");
      await expect(user.getByRole("heading", { name: "Sessions" })).toBeVisible();
      await shoot(user, size.name, "08-settings");

      await user.goto("/system/settings");
      await expect(user.getByRole("heading", { name: "Account defaults" })).toBeVisible();
      await shoot(user, size.name, "09-system-settings");
      await user.context().close();
    }
  });

  test("coding tools at phone, tablet and desktop sizes", async ({ signedIn: page, instance, browser }) => {
    test.setTimeout(240_000);
    const api = new Api(page, instance.url);
    const chat = new ChatPage(page);
    try {
      // A Coder (with git_log) whose `touch` waits for approval, a hook that fails, and a workspace on a fresh
      // repository.
      const repo = tempRepo();
      const { id, agentId } = await api.agentConversation("Shot coder", {
        "hooks/mood.sh": "#!/bin/sh\necho 'mood service unreachable: connection refused' >&2\nexit 3\n",
        "agent.yml": `${CODER_YML.replace("edit_file]", "edit_file, git_log]")}hooks:\n  before_inference: hooks/mood.sh\n`,
      });
      await api.call("PUT", `/api/policies/agents/${agentId}`, { commands: { ask: ["touch"] } });
      await api.call("PATCH", `/api/conversations/${id}`, { title: "Tidy up the notes" });
      await chat.open(id);
      await chat.send(call("workspace_set", { path: repo }));
      await chat.expectCompletedReply("Tool results: workspace_set:");
      await chat.send(
        call("edit_file", { path: "notes.txt", old_string: "Call the plumber", new_string: "Call the electrician" }),
      );
      await chat.expectCompletedReply("Tool results: edit_file:");
      await chat.send(call("bash", { command: 'for i in $(seq 1 60); do echo "step $i of 60: ok"; done; sleep 120' }));
      await expect(chat.outputPane(chat.latestToolCard)).toContainText("step 60 of 60");
      const state = JSON.stringify(await page.context().storageState());

      for (const size of SIZES) {
        const user = await sizedPage(browser, instance.url, size, state);
        const shown = new ChatPage(user);
        await shown.open(id);
        const running = shown.latestToolCard;
        await expect(shown.outputPane(running)).toContainText("step 60 of 60");
        await running.scrollIntoViewIfNeeded();
        await capture(user, size.name, "10-bash-streaming");
        await expect(shown.workspace).toBeVisible();
        await user.screenshot({ path: path.join(OUT, `${size.name}-11-header-workspace.png`), clip: headerClip(size) });
        const edit = user.locator("details[data-tool-call]").filter({ hasText: "notes.txt" });
        await edit.locator("summary").click();
        await edit.scrollIntoViewIfNeeded();
        await capture(user, size.name, "12-diff-card");
        await user.context().close();
      }

      await chat.stopButton.click();
      await expect(chat.latestToolCard).toHaveAttribute("data-tool-stopped", "true");
      await chat.expectSettled();
      await chat.send(call("bash", { command: "touch release-notes.md && git status --short" }));
      await expect(chat.approvalPanel(chat.latestToolCard)).toBeVisible();

      for (const size of SIZES) {
        const user = await sizedPage(browser, instance.url, size, state);
        const shown = new ChatPage(user);
        await shown.open(id);
        const asking = shown.approvalPanel(shown.latestToolCard);
        await expect(asking).toBeVisible();
        await asking.scrollIntoViewIfNeeded();
        await capture(user, size.name, "13-approval-panel");
        const stoppedReply = shown.replies.filter({ has: user.locator("[data-tool-stopped]") });
        await shown.hookWarnings(stoppedReply).getByText("Show what it printed on stderr").click();
        await stoppedReply.scrollIntoViewIfNeeded();
        await capture(user, size.name, "14-stopped-card-and-hook-warning");
        await shown.replies.getByRole("button", { name: "Details" }).first().click();
        await expect(user.locator("[data-hook-execution]").first()).toBeVisible();
        await user.locator("[data-hook-execution]").first().scrollIntoViewIfNeeded();
        await capture(user, size.name, "15-inspector-hooks");
        await user.context().close();
      }
      await chat.approvalPanel(chat.latestToolCard).getByRole("button", { name: "Approve" }).click();
      await chat.expectCompletedReply("Tool results: bash:");

      // A card with no view of its own whose command printed live: the result, the raw output behind a button.
      for (const size of SIZES) {
        const user = await sizedPage(browser, instance.url, size, state);
        const shown = new ChatPage(user);
        await shown.open(id);
        await shown.send(call("git_log", {}));
        await shown.expectCompletedReply("Tool results: git_log:");
        const history = shown.latestToolCard;
        if ((await history.getAttribute("open")) === null) await history.locator("summary").click();
        await expect(history.getByRole("button", { name: "Show what the command printed" })).toBeVisible();
        await history.scrollIntoViewIfNeeded();
        await capture(user, size.name, "16-command-card");
        await user.context().close();
      }
    } finally {
      removeTempFolders();
    }
  });
});

/** The viewport as it is, spinners and all (a command that runs shows one by design). */
async function capture(page: Page, size: string, name: string) {
  await page.screenshot({ path: path.join(OUT, `${size}-${name}.png`), animations: "disabled" });
}

/** The top of the page: the conversation's header. */
function headerClip(size: (typeof SIZES)[number]) {
  return { x: 0, y: 0, width: size.width, height: 120 };
}
