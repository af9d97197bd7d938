import {
  collectSamples,
  expect,
  expectConverged,
  expectNumberedLines,
  expectSamplesArePrefixes,
  type HookWindow,
  test,
} from "./transport";

/**
 * Compaction while a client lags: the page holds part of reply A and a cursor among A's persisted chunks, then
 * hears nothing while A finishes — its chunks are replaced by one stream_complete — and B starts streaming. It
 * comes back with its old cursor in the middle of B: it must end with A whole (from the compacted event) and B
 * resumed, each exactly once.
 */

test.use({ sampling: true });

test("a client cut off mid-reply resumes after the reply's chunks were compacted, while the next one streams", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(150_000);
  const hook = () => page.evaluate(() => (window as HookWindow).__cybrosTransport!.status()!);
  await chat.send("/mock long kb=16 chunk_size=64 delay=25");
  await chat.send("/mock long kb=32 chunk_size=64 delay=25");
  await expect(chat.replies.first()).toContainText("00020:");

  // The page stops hearing anything (the stream and its polling fallback fail) while holding part of A.
  await page.route(/\/events(\?|\/poll)/, (route) => route.abort());
  await page.evaluate(() => (window as HookWindow).__cybrosTransport!.drop());
  const lagging = (await hook()).cursor;

  // A finishes and is compacted; B streams.
  let a = "";
  await expect
    .poll(
      async () => {
        const [, first, , second] = await api.messages(id);
        a = first?.id ?? "";
        return [first?.state, second?.state === "streaming" && second.text.length > 1000];
      },
      { timeout: 60_000 },
    )
    .toEqual(["completed", true]);
  const after = await api.events(id, lagging);
  expect(after.filter((e) => e.node_id === a && e.kind === "stream_chunk")).toEqual([]);
  expect(after.filter((e) => e.node_id === a && e.kind === "stream_complete")).toHaveLength(1);

  await page.unrouteAll();
  await page.evaluate(() => (window as HookWindow).__cybrosTransport!.reconnect());
  await expect.poll(async () => (await hook()).state).toBe("open");
  const server = await expectConverged(chat, api, id, 60_000);
  const samples = await collectSamples(page);
  for (const reply of [server[1]!, server[3]!]) {
    expectNumberedLines(reply.text);
    expectSamplesArePrefixes(samples[reply.id!], reply.text);
  }
  // The mock's `long kb=N` is exactly N × 1024 characters.
  expect((await api.messages(id)).map((m) => m.text.length).filter((_, i) => i % 2 === 1)).toEqual([16_384, 32_768]);
  expect(consoleErrors.filter((e) => !/net::ERR_FAILED/.test(e))).toEqual([]);
});
