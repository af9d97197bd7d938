import { expect, expectConverged, expectNumberedLines, type HookWindow, test, waitForStream } from "./transport";

/**
 * A 500 KB reply streamed fast (1,000 chunks of 512 characters, 10 ms apart): the page stays responsive — no
 * task longer than 200 ms on the main thread from the send to the finished reply, measured by a 'longtask'
 * PerformanceObserver installed before the app loads — the DOM stays bounded, and the final text is exact.
 */

type Window2 = HookWindow & { __longTasks?: { start: number; duration: number }[]; __domMax?: number };

test("a 500 KB reply streams with no long task over 200 ms, a bounded DOM and the exact final text", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(180_000);
  await page.addInitScript(() => {
    const w = window as Window2;
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__longTasks!.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: "longtask", buffered: true });
  });
  await chat.open(id);
  // The measure covers the reply, not the page's own start (bundle parse, first render), which happens above.
  await waitForStream(page);

  const started = await page.evaluate(() => {
    const w = window as Window2;
    w.__domMax = 0;
    // The element count under the message list, sampled every 250 ms while the reply grows.
    setInterval(() => {
      const count = document.querySelectorAll('ol[aria-label="Messages"] *').length;
      w.__domMax = Math.max(w.__domMax ?? 0, count);
    }, 250);
    return performance.now();
  });
  await chat.send("/mock long kb=500 chunk_size=512 delay=10");
  await expect(chat.lastReply).toHaveAttribute("data-indicator", "streaming");
  // The composer answers while the reply streams.
  await chat.composer.fill("typing while it streams");
  await expect(chat.composer).toHaveValue("typing while it streams");
  await chat.composer.fill("");
  await expect(chat.lastReply).toHaveAttribute("data-indicator", "completed", { timeout: 120_000 });
  // Two more frames: the final render of the complete reply is part of the measure.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const { tasks, domMax, domFinal, blocks } = await page.evaluate((since) => {
    const w = window as Window2;
    return {
      tasks: (w.__longTasks ?? []).filter((t) => t.start >= since),
      domMax: w.__domMax ?? 0,
      domFinal: document.querySelectorAll('ol[aria-label="Messages"] *').length,
      blocks: document.querySelectorAll('ol[aria-label="Messages"] .chat-block').length,
    };
  }, started);
  console.log(
    `long tasks: ${tasks.length}, longest ${Math.max(0, ...tasks.map((t) => t.duration)).toFixed(0)} ms; DOM max ${domMax}, final ${domFinal}, blocks ${blocks}`,
  );

  const server = await expectConverged(chat, api, id, 60_000);
  const reply = server[1]!;
  expect((await api.messages(id))[1]!.text).toHaveLength(500 * 1024);
  expect(expectNumberedLines(reply.text)).toBeGreaterThan(6_000);
  expect(tasks.filter((t) => t.duration > 200)).toEqual([]);
  // Bounded by design, not by this text's length: the reply renders at most MAX_BLOCKS (300) blocks of at most
  // ~4 KB of prose each (Markdown.tsx, markdown.ts), a block being a wrapper and its paragraph, plus the row's own
  // few dozen elements. 500 KB needs ~125 blocks (~270 elements measured); one element per chunk (1,000) or per
  // line (~6,800) would break the bound.
  expect(blocks).toBeLessThanOrEqual(300);
  expect(domMax).toBeLessThan(2 * 300 + 100);
  expect(domFinal).toBeLessThan(2 * 300 + 100);
  expect(consoleErrors).toEqual([]);
});
