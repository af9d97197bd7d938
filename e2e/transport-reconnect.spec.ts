import {
  collectSamples,
  expect,
  expectConverged,
  expectNumberedLines,
  expectSamplesArePrefixes,
  type HookWindow,
  squash,
  test,
} from "./transport";

/**
 * Reconnects mid-stream: a reload, the browser going offline and back, the event stream dropped (and its first
 * reconnection refused). Each time the reply resumes where the page left it: the final text equals the server's
 * exactly, every numbered line of the mock's `long` reply appears once and in order, and no moment in between
 * showed text that is not a prefix of the final text (sampled every 50 ms across reloads).
 */

/** 32 KB in 256 chunks 40 ms apart: at least 10 s of streaming, about 437 numbered lines. */
const LONG = "/mock long kb=32 chunk_size=128 delay=40";
const LENGTH = 32 * 1024;
const LINES = Math.floor(LENGTH / 75);

test.use({ sampling: true });

test("the page reloads twice mid-stream: the reply resumes with nothing doubled or missing", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(120_000);
  await chat.send(LONG);
  await expect(chat.lastReply).toContainText("00040:");
  const samples = await collectSamples(page);

  await page.reload();
  // The reply comes back part-written and keeps streaming from there.
  await expect(chat.lastReply).toHaveAttribute("data-indicator", "streaming");
  await expect(chat.lastReply).toContainText("00200:");
  await collectSamples(page, samples);

  await page.reload();
  const server = await expectConverged(chat, api, id);
  await collectSamples(page, samples);

  const reply = server[1]!;
  expect(server.map((m) => m.role)).toEqual(["user", "assistant"]);
  expect(expectNumberedLines(reply.text)).toBeGreaterThanOrEqual(LINES);
  expect((await api.messages(id))[1]!.text).toHaveLength(LENGTH);
  // Partial states were seen on both sides of the first reload at least.
  expect(expectSamplesArePrefixes(samples[reply.id!], reply.text)).toBeGreaterThan(2);
  expect(consoleErrors).toEqual([]);
});

test("the browser goes offline mid-stream and comes back: the reply catches up", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(120_000);
  await chat.send(LONG);
  await expect(chat.lastReply).toContainText("00040:");

  await page.context().setOffline(true);
  await expect(page.getByText("You are offline")).toBeVisible();
  const shownOffline = squash((await chat.lastReply.textContent()) ?? "");
  // The server goes on writing while the page cannot hear it.
  await expect
    .poll(async () => squash((await api.messages(id)).at(-1)?.text ?? "").length, { timeout: 30_000 })
    .toBeGreaterThan(shownOffline.length + 4096);
  await page.context().setOffline(false);
  await expect(page.getByText("You are offline")).toBeHidden();

  const server = await expectConverged(chat, api, id);
  const reply = server[1]!;
  expect(expectNumberedLines(reply.text)).toBeGreaterThanOrEqual(LINES);
  expect((await api.messages(id))[1]!.text).toHaveLength(LENGTH);
  expectSamplesArePrefixes((await collectSamples(page))[reply.id!], reply.text);
  // Requests cut by the offline switch fail as the browser reports them; nothing else may.
  expect(consoleErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e))).toEqual([]);
});

test("the event stream drops mid-stream and its first reconnection is refused: the reply resumes", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(120_000);
  await chat.send(LONG);
  await expect(chat.lastReply).toContainText("00040:");

  let refused = 0;
  await page.route(
    /\/events\?cursor=/,
    (route) => {
      refused++;
      return route.abort("connectionreset");
    },
    { times: 1 },
  );
  const before = await page.evaluate(() => (window as HookWindow).__cybrosTransport!.status()!);
  expect(before.state).toBe("open");
  await page.evaluate(() => (window as HookWindow).__cybrosTransport!.drop());
  await expect.poll(() => refused).toBe(1);
  // Back on a stream of its own, from the cursor it held.
  await expect.poll(() => page.evaluate(() => (window as HookWindow).__cybrosTransport!.status()!.state)).toBe("open");

  const server = await expectConverged(chat, api, id);
  const reply = server[1]!;
  expect(expectNumberedLines(reply.text)).toBeGreaterThanOrEqual(LINES);
  expect((await api.messages(id))[1]!.text).toHaveLength(LENGTH);
  expectSamplesArePrefixes((await collectSamples(page))[reply.id!], reply.text);
  expect(consoleErrors.filter((e) => !/ERR_CONNECTION_RESET/.test(e))).toEqual([]);
});
