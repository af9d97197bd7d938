import { randomUUID } from "node:crypto";
import { expect, expectConverged, expectNothingPending, expectNumberedLines, squash, test } from "./transport";

/**
 * Stop, Retry after a scripted provider error, and a hanging provider: the stuck warning, Cancel, Retry. Each ends
 * on the server's exact transcript with nothing left streaming, and Stop/Cancel are proven to abort the provider
 * request (the mock logs the client going away), not just to hide the reply.
 */

test("Stop ends a long reply: the provider request is aborted and the text stops where it was", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(120_000);
  // 64 KB at 64 characters per 50 ms would take 50 s.
  await chat.send("/mock long kb=64 chunk_size=64 delay=50");
  await expect(chat.lastReply).toContainText("00030:");
  await chat.stopButton.click();

  await expect(chat.lastReply).toHaveAttribute("data-indicator", "canceled");
  await expect(chat.lastReply.getByText("Stopped")).toBeVisible();
  await expect
    .poll(async () => (await api.mockRequests(1))[0]?.outcome, { message: "the provider request is aborted" })
    .toBe("client_closed");
  const server = await expectConverged(chat, api, id);
  const messages = await api.messages(id);
  expect(messages.map((m) => [m.role, m.state])).toEqual([
    ["user", "completed"],
    ["assistant", "canceled"],
  ]);
  const full = 64 * 1024;
  const kept = messages[1]!.text;
  expect(kept.length).toBeGreaterThan(30 * 70);
  expect(kept.length).toBeLessThan(full);
  expectNumberedLines(kept);

  // Nothing trickles in after Stop, and a fresh load shows the same text.
  await page.reload();
  await expect(chat.lastReply).toHaveAttribute("data-indicator", "canceled");
  await expectConverged(chat, api, id);
  expect(squash((await api.messages(id))[1]!.text)).toBe(server[1]!.text);
  expect(consoleErrors).toEqual([]);
});

test("a scripted provider error fails the reply with Retry; Retry replaces it with a good reply", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(90_000);
  // 400 is not retried by the LLM client; `times=1` answers the retry (same message) with the echo.
  await chat.send("/mock error status=400 times=1\nhello after an error");
  const failure = chat.lastReply.getByRole("alert");
  await expect(failure).toContainText("The model provider returned an error.");
  await expectNothingPending(chat);
  expect((await api.messages(id)).map((m) => [m.role, m.state, m.error?.code ?? null])).toEqual([
    ["user", "completed", null],
    ["assistant", "errored", "http_error"],
  ]);

  await failure.getByRole("button", { name: "Retry" }).click();
  await expectConverged(chat, api, id);
  const shown = await chat.transcript();
  expect(shown.map((m) => [m.role, m.text.trim(), m.state])).toEqual([
    ["user", "/mock error status=400 times=1\nhello after an error", "sent"],
    ["assistant", "Mock reply: hello after an error", "completed"],
  ]);
  await expect(page.getByRole("alert")).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});

test.describe("a hanging provider", () => {
  // Stalled after 2 s without progress (heartbeats keep coming every 5 s, so "silent" never applies).
  test.use({ appFlags: { "cybros.debug": "1", "cybros.chat.stuckMs": "60000,2000" } });

  test("shows the stuck warning; Cancel stops it, Retry gets a reply; the warning's own Retry too", async ({
    conversation: { id, chat, page },
    api,
    consoleErrors,
  }) => {
    test.setTimeout(120_000);
    const scenario = `hang-${randomUUID()}`;
    await api.defineScenario(scenario, [
      { reply: "hang" },
      { reply: "text", text: "Recovered after Cancel." },
      { reply: "hang" },
      { reply: "text", text: "Recovered after Retry." },
    ]);
    const message = `/mock scenario name=${scenario}`;
    const stuck = page.getByRole("alert").filter({ hasText: "The model has not sent anything for a while." });

    await chat.send(message);
    await expect(stuck).toBeVisible();
    await stuck.getByRole("button", { name: "Cancel" }).click();
    await expect(stuck).toBeHidden();
    await expect
      .poll(async () => (await api.mockRequests(1))[0]?.outcome, { message: "the hanging request is aborted" })
      .toBe("client_closed");
    const stopped = chat.replies.last();
    await expect(stopped).toHaveAttribute("data-indicator", "canceled");
    await expect(stopped.getByText("Stopped")).toBeVisible();
    await stopped.getByRole("button", { name: "Retry" }).click();
    // Retry is a request of its own: until its reply shows, the canceled reply is a truth both sides agree on.
    await expect(chat.lastReply).toContainText("Recovered after Cancel.");
    await expectConverged(chat, api, id);

    await chat.send(message);
    await expect(stuck).toBeVisible();
    await stuck.getByRole("button", { name: "Retry" }).click();
    // The warning's Retry stops the run, then retries it: the stopped reply alone is not the end.
    await expect(chat.lastReply).toContainText("Recovered after Retry.");
    await expectConverged(chat, api, id);
    expect((await chat.transcript()).map((m) => [m.role, m.text.trim(), m.state])).toEqual([
      ["user", message, "sent"],
      ["assistant", "Recovered after Cancel.", "completed"],
      ["user", message, "sent"],
      ["assistant", "Recovered after Retry.", "completed"],
    ]);
    const outcomes = (await api.mockRequests(4)).map((r) => r.outcome);
    expect(outcomes).toEqual(["client_closed", "completed", "client_closed", "completed"]);
    expect(consoleErrors).toEqual([]);
  });
});
