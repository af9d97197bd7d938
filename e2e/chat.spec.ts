import { expect, OWNER, test } from "./fixtures";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { Shell } from "./pages/shell";

/**
 * Chatting with the mock LLM through the whole UI, one conversation per test on the worker's instance. First run
 * is auth.spec.ts; the mock's `/mock …` directives (docs/mock-llm.md) script each reply.
 */

test("a fresh install: setup lands on the composer; the first send opens one conversation with its reply", async ({
  page,
  consoleErrors,
  freshInstance: instance,
}) => {
  const shell = new Shell(page);
  const chat = new ChatPage(page);
  await page.goto(instance.url);
  await new AuthPages(page).completeSetup(OWNER.email, OWNER.password);
  await expect(page).toHaveURL(/\/conversations$/);
  await expect(page.getByRole("heading", { name: "What can I help with?" })).toBeVisible();
  await expect(shell.agentSwitcher).toHaveAccessibleName("Agent: Default Assistant. Choose another agent");
  await expect(shell.conversationList.getByRole("link")).toHaveCount(0);

  await chat.recordReplyPhases();
  // A loading state between the send and the open conversation would be a flash: note any that appears.
  await page.evaluate(() => {
    const seen = window as unknown as { __loadingShown: string | null };
    seen.__loadingShown = null;
    new MutationObserver(() => {
      const statuses = document.querySelectorAll('[role="status"], [aria-busy="true"]');
      const loading = Array.from(statuses).find((e) => /Loading (messages|conversation)/.test(e.textContent ?? ""));
      if (loading) seen.__loadingShown ??= `${location.pathname}: ${loading.outerHTML.slice(0, 300)}`;
    }).observe(document.body, { subtree: true, childList: true });
  });
  await chat.send("/mock echo chunk_size=4 delay=40\nPlan a picnic for Saturday");
  await expect(page).toHaveURL(/\/conversations\/[0-9a-f-]{36}$/);
  await expect(chat.userMessages).toHaveCount(1);
  await chat.expectCompletedReply("Mock reply: Plan a picnic for Saturday");
  // It streamed in place: seen growing, and the page never went back to a loading state.
  const phases = await chat.phases();
  expect(phases.filter((p) => p.phase === "streaming").length, JSON.stringify(phases)).toBeGreaterThan(1);
  expect(await page.evaluate(() => (window as unknown as { __loadingShown: string | null }).__loadingShown)).toBe(null);
  await expect(shell.conversationList.getByRole("link")).toHaveCount(1);
  await expect(page.locator("main header")).toContainText("Default Assistant");
  expect(consoleErrors).toEqual([]);
});

test("a first send that fails keeps the typed text and creates nothing", async ({
  signedIn: page,
  apiRequest,
  consoleErrors,
}) => {
  const shell = new Shell(page);
  const chat = new ChatPage(page);
  const before = (await (await apiRequest.get("/api/conversations?limit=100")).json()).conversations.length;
  await page.goto("/conversations");
  await page.route("**/api/conversations", (route) =>
    route.request().method() === "POST" ? route.abort("connectionrefused") : route.fallback(),
  );
  await chat.composer.fill("Keep this text");
  await chat.sendButton.click();
  await expect(page.getByText(/^Not sent:/)).toBeVisible();
  await expect(chat.composer).toHaveValue("Keep this text");
  await expect(page).toHaveURL(/\/conversations$/);

  await page.unroute("**/api/conversations");
  await chat.sendButton.click();
  await expect(page).toHaveURL(/\/conversations\/[0-9a-f-]{36}$/);
  await chat.expectCompletedReply("Mock reply: Keep this text");
  await expect(shell.conversationLink("Keep this text")).toBeVisible();
  const after = (await (await apiRequest.get("/api/conversations?limit=100")).json()).conversations.length;
  expect(after).toBe(before + 1);
  expect(consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to fetch/.test(e))).toEqual([]);
});

test("new conversation → a streamed reply settles as completed; a tool call shows as a card with its arguments and result", async ({
  signedIn: page,
  consoleErrors,
}) => {
  const shell = new Shell(page);
  const chat = new ChatPage(page);
  await shell.startConversation("Hello from Playwright", "Default Assistant");
  await expect(chat.userMessages.last()).toHaveText("Hello from Playwright");
  await chat.expectCompletedReply("Mock reply: Hello from Playwright");
  // The first message names the conversation in the sidebar.
  await expect(shell.conversationLink("Hello from Playwright")).toBeVisible();

  // A slow reply is seen growing piece by piece while the indicator says streaming, then settles.
  await chat.recordReplyPhases();
  await chat.send("/mock echo chunk_size=4 delay=80\nOne word at a time, please");
  await chat.expectCompletedReply("Mock reply: One word at a time, please");
  const phases = await chat.phases();
  const streaming = phases.filter((p) => p.phase === "streaming");
  expect(new Set(streaming.map((p) => p.length)).size, JSON.stringify(phases)).toBeGreaterThan(2);
  expect(phases.at(-1)?.phase, JSON.stringify(phases)).toBe("completed");
  expect(phases.findIndex((p) => p.phase === "completed")).toBeGreaterThan(
    phases.findLastIndex((p) => p.phase === "streaming"),
  );

  await chat.send('/mock tool_calls\nmemory_store {"content":"The user drinks green tea"}');
  await chat.expectCompletedReply("Tool results: memory_store:");
  // The call and the answer that follows it are one reply: the card sits in the turn's first bubble.
  const card = chat.toolCard(chat.replies, "memory_store");
  await expect(card).toBeVisible();
  await expect(card.getByText("Done")).toBeAttached();
  await expect(card.getByText("Arguments")).toBeHidden();
  await card.locator("summary").click();
  await expect(card.getByText("Arguments")).toBeVisible();
  await expect(card.locator("pre").first()).toContainText('"content": "The user drinks green tea"');
  await expect(card.getByText("Result", { exact: true })).toBeVisible();
  await expect(card.locator("pre").nth(1)).not.toHaveText("");
  await card.locator("summary").click();
  await expect(card.getByText("Arguments")).toBeHidden();

  expect(consoleErrors).toEqual([]);
});

test("a failed reply shows an inline error with Retry, and Retry gets a good reply", async ({
  signedIn: page,
  apiRequest,
  consoleErrors,
}) => {
  const chat = new ChatPage(page);
  // The LLM client retries a 500 twice before giving up (decisions/0004), so the first send uses three steps;
  // the Retry button's new run gets the fourth.
  const scenario = `flaky-${test.info().workerIndex}-${Date.now()}`;
  const defined = await apiRequest.post("/mock_llm/v1/scenarios", {
    data: {
      name: scenario,
      steps: [
        { reply: "error", status: 500 },
        { reply: "error", status: 500 },
        { reply: "error", status: 500 },
        { reply: "text", text: "Recovered." },
      ],
    },
  });
  expect(defined.status()).toBe(201);

  await new Shell(page).startConversation(`/mock scenario name=${scenario}`);
  const failed = chat.lastReply;
  await expect(failed).toHaveAttribute("data-indicator", "errored", { timeout: 30_000 });
  const error = failed.getByRole("alert");
  await expect(error).toContainText("The model provider returned an error.");
  await error.getByRole("button", { name: "Retry" }).click();

  await chat.expectCompletedReply("Recovered.");
  // The failed attempt is replaced by the retry, not kept beside it.
  await expect(chat.replies).toHaveCount(1);
  await expect(page.getByRole("alert").filter({ hasText: "returned an error" })).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});

test("Stop ends a slow reply: the bubble says canceled and no more text arrives", async ({
  signedIn: page,
  apiRequest,
  consoleErrors,
}) => {
  const chat = new ChatPage(page);
  // 50 KB in 16-character chunks 30 ms apart: more than a minute and a half if nobody stops it.
  await new Shell(page).startConversation("/mock long kb=50 delay=30");
  await expect(chat.lastReply).toContainText("00002:");
  const reply = page.locator(`[data-message-id="${await chat.lastReply.getAttribute("data-message-id")}"]`);
  await expect(reply).toHaveAttribute("data-indicator", "streaming");
  await chat.stopButton.click();

  await expect(reply).toHaveAttribute("data-indicator", "canceled");
  await expect(reply.getByText("Stopped")).toBeVisible();
  await expect(chat.stopButton).toBeHidden();
  const stoppedText = (await reply.locator(".chat-markdown").textContent()) ?? "";
  expect(stoppedText.length).toBeLessThan(50 * 1024);

  // The mock saw its client go away: the upstream request was closed, not left streaming.
  await expect
    .poll(async () => {
      const log = await (await apiRequest.get("/mock_llm/v1/requests?limit=5")).json();
      return log.data.filter((r: { directive: string | null }) => r.directive?.includes("long kb=50")).at(-1)?.outcome;
    })
    .toBe("client_closed");

  // By the time a later reply has come and gone, a stream that had kept going would have added text.
  await chat.send("And now?");
  await chat.expectCompletedReply("Mock reply: And now?");
  await expect(reply.locator(".chat-markdown")).toHaveText(stoppedText);
  await expect(reply).toHaveAttribute("data-indicator", "canceled");
  expect(consoleErrors).toEqual([]);
});

test("archive hides a conversation from the list and shows it under archived; restore brings it back; delete asks, then removes it", async ({
  signedIn: page,
  apiRequest,
  consoleErrors,
}) => {
  const shell = new Shell(page);
  const chat = new ChatPage(page);
  const title = `Archive me ${Date.now()}`;
  const id = await shell.startConversation(title);
  await chat.expectCompletedReply(`Mock reply: ${title}`);
  await expect(shell.conversationLink(title)).toBeVisible();

  await chat.conversationAction("Archive");
  await expect(page.getByText("This conversation is archived.")).toBeVisible();
  await expect(shell.conversationLink(title)).toBeHidden();
  await shell.showArchived(true);
  await expect(shell.conversationLink(title)).toBeVisible();

  await shell.conversationAction(title, "Restore");
  await expect(page.getByText("This conversation is archived.")).toBeHidden();
  await expect(shell.conversationLink(title)).toBeHidden();
  await shell.showArchived(false);
  await expect(shell.conversationLink(title)).toBeVisible();

  // Cancel first: nothing is deleted until the confirmation says so.
  await chat.conversationAction("Delete");
  const dialog = page.getByRole("alertdialog", { name: "Delete conversation?" });
  await expect(dialog).toContainText(title);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(shell.conversationLink(title)).toBeVisible();

  await chat.conversationAction("Delete");
  await chat.confirmDelete();
  await expect(page).toHaveURL(/\/conversations$/);
  await expect(shell.conversationLink(title)).toBeHidden();
  await shell.showArchived(true);
  await expect(shell.conversationLink(title)).toBeHidden();
  expect((await apiRequest.get(`/api/conversations/${id}`)).status()).toBe(404);
  expect(consoleErrors).toEqual([]);
});
