import type { ApiEvent } from "./api";
import {
  expect,
  expectConverged,
  expectNothingPending,
  type HookWindow,
  seededRandom,
  shownTranscript,
  shuffle,
  squash,
  test,
} from "./transport";

/**
 * Events pushed through the transport's test hook (`window.__cybrosTransport.inject`, the path received events
 * take): duplicated, reversed, late and shuffled. The page must show the same exact transcript as the server,
 * never move a finished reply backwards, and build a whole reply from chunks that arrive in any order.
 */

type Page = import("@playwright/test").Page;

async function inject(page: Page, events: unknown[]) {
  await page.evaluate((batch) => (window as HookWindow).__cybrosTransport!.inject(batch), events);
}

/** How many envelopes the reconciler dropped as duplicates or stale (it counts them). */
async function dropped(page: Page): Promise<number> {
  return page.evaluate(
    () => ((window as HookWindow).__cybrosTransport as unknown as { state(): { dropped: number } }).state().dropped,
  );
}

/** The reply's text as ephemeral (cursor-less) chunks of `size` characters, each with its offset. */
function chunksOf(template: ApiEvent, text: string, size: number): ApiEvent[] {
  const chunks: ApiEvent[] = [];
  for (let offset = 0; offset < text.length; offset += size) {
    chunks.push({
      ...template,
      event_id: null,
      seq: null,
      kind: "stream_chunk",
      text: text.slice(offset, offset + size),
      payload: { offset },
    });
  }
  return chunks;
}

test("duplicated, reversed and late events leave a finished transcript exactly as it is", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(90_000);
  await chat.send("first message");
  await expectConverged(chat, api, id);
  await chat.send("second message");
  const server = await expectConverged(chat, api, id);

  const events = await api.events(id);
  const persisted = events.filter((e) => e.seq !== null).length;
  const reply = (await api.messages(id)).at(-1)!;
  const replyEvent = events.find((e) => e.node_id === reply.id && e.run_id)!;
  const started = events.find((e) => e.kind === "run_started" && e.run_id === replyEvent.run_id)!;
  const late = [
    // Chunks and a "pending" message for a reply that is complete, a start for a run that succeeded.
    ...chunksOf(replyEvent, "garbage that must never show", 7),
    { ...started, seq: null, event_id: null },
    {
      ...replyEvent,
      seq: null,
      event_id: null,
      kind: "message_created",
      payload: { message: { ...reply, state: "pending", text: "", parts: [] } },
    },
  ];
  const before = await dropped(page);
  await inject(page, [...events].reverse());
  await inject(page, [...late, ...events, ...late]);
  // Every persisted event came twice more: both copies are dropped (proof the batches were applied).
  await expect.poll(() => dropped(page)).toBe(before + 2 * persisted);
  expect(await shownTranscript(chat)).toEqual(server);
  await expectNothingPending(chat);
  expect((await chat.transcript()).map((m) => m.text.trim())).toEqual([
    "first message",
    "Mock reply: first message",
    "second message",
    "Mock reply: second message",
  ]);
  expect(consoleErrors).toEqual([]);
});

test("a reply that arrives only as shuffled, duplicated events is built whole, then finishes once", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(120_000);
  const seed = Number(process.env.TRANSPORT_SEED ?? Date.now() % 1_000_000);
  console.log(`transport-inject seed: ${seed} (replay with TRANSPORT_SEED=${seed})`);
  const random = seededRandom(seed);

  // Cut the page off from everything the server would tell it: the stream, polling and the messages page.
  const hook = () => page.evaluate(() => (window as HookWindow).__cybrosTransport!.status()!);
  const cursor = (await hook()).cursor;
  await page.route(/\/events(\?|\/poll)/, (route) => route.abort());
  await page.route(/\/messages\?/, (route) => route.abort());
  await page.evaluate(() => (window as HookWindow).__cybrosTransport!.drop());
  await expect.poll(async () => (await hook()).state).not.toBe("open");

  await chat.send("/mock long kb=4 chunk_size=100");
  await api.waitForIdle(id);
  const messages = await api.messages(id);
  const reply = messages.at(-1)!;
  expect(reply.role).toBe("assistant");
  const events = (await api.events(id, cursor)).filter((e) => e.seq !== null);
  const isEnd = (e: ApiEvent) => ["stream_complete", "typing_stop", "run_succeeded"].includes(e.kind);
  const start = events.filter((e) => !isEnd(e));
  const end = events.filter(isEnd);
  expect(end.map((e) => e.kind).sort()).toEqual(["run_succeeded", "stream_complete", "typing_stop"]);
  const template = events.find((e) => e.node_id === reply.id && e.run_id)!;
  const chunks = chunksOf(template, reply.text, 100);

  // Everything but the end, shuffled, a third of it twice, in five batches (five renders).
  const phaseA = shuffle([...start, ...chunks, ...shuffle(chunks, random).slice(0, 14), ...start], random);
  for (let i = 0; i < 5; i++) await inject(page, phaseA.slice((i * phaseA.length) / 5, ((i + 1) * phaseA.length) / 5));
  await expect.poll(async () => squash((await chat.lastReply.textContent()) ?? "")).toBe(squash(reply.text));
  await expect(chat.lastReply).toHaveAttribute("data-indicator", "streaming");
  await expect(chat.lastReply).toHaveAttribute("data-message-id", reply.id);

  // The end, backwards and twice.
  await inject(page, [...end].reverse());
  await inject(page, [...end, ...chunks.slice(0, 3)]);
  const server = messages.map((m) => ({ role: m.role, id: m.id, text: squash(m.text) }));
  await expect.poll(() => shownTranscript(chat)).toEqual(server);
  await expectNothingPending(chat);
  await expect(chat.lastReply).toHaveAttribute("data-indicator", "completed");

  // The real stream comes back and replays all of it: nothing changes.
  await page.unrouteAll();
  await page.evaluate(() => (window as HookWindow).__cybrosTransport!.reconnect());
  await expect.poll(async () => (await hook()).state).toBe("open");
  await expectConverged(chat, api, id);
  // Only the aborts of the cut-off requests may have failed.
  expect(consoleErrors.filter((e) => !/net::ERR_FAILED/.test(e))).toEqual([]);
});
