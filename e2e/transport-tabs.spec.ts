import { collectErrors } from "./fixtures";
import { ChatPage } from "./pages/chat";
import {
  collectSamples,
  expect,
  expectConverged,
  expectNumberedLines,
  expectSamplesArePrefixes,
  test,
} from "./transport";

/**
 * Two tabs on one conversation: what either sends streams live into both, in the same order, and both end on
 * the server's exact transcript (messages sent from both tabs at once included).
 */

test.use({ sampling: true });

test("two tabs on one conversation stay in sync, whichever tab sends", async ({
  conversation: { id, chat: a, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(150_000);
  const pageB = await page.context().newPage();
  const errorsB = collectErrors(pageB);
  const b = new ChatPage(pageB);
  await b.open(id);

  // A long reply asked for in A streams into B as it is written.
  await a.send("/mock long kb=16 chunk_size=64 delay=20");
  await expect(b.lastReply).toContainText("00020:");
  await expect(b.lastReply).toHaveAttribute("data-indicator", "streaming");
  const server = await expectConverged(b, api, id);
  await expectConverged(a, api, id);
  expectNumberedLines(server[1]!.text);
  for (const tab of [page, pageB])
    expectSamplesArePrefixes((await collectSamples(tab))[server[1]!.id!], server[1]!.text);

  // B answers; A sees it.
  await b.send("hello from tab B");
  await expect(a.lastReply).toContainText("Mock reply: hello from tab B");

  // Both send at once: the server orders them; both tabs agree with it.
  await Promise.all([a.send("at once from A"), b.send("at once from B")]);
  const final = await expectConverged(a, api, id);
  await expectConverged(b, api, id);
  expect(final.map((m) => m.role)).toEqual([
    "user",
    "assistant",
    "user",
    "assistant",
    "user",
    "assistant",
    "user",
    "assistant",
  ]);
  for (let i = 4; i < 8; i += 2) {
    // Each message is paired with its own reply, whichever tab sent it.
    expect(final[i + 1]!.text).toBe(`Mockreply:${final[i]!.text}`);
  }
  expect(new Set([final[4]!.text, final[6]!.text])).toEqual(new Set(["atoncefromA", "atoncefromB"]));
  expect([...consoleErrors, ...errorsB]).toEqual([]);
});
