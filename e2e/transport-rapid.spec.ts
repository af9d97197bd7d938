import { expect, expectConverged, test } from "./transport";

/**
 * Rapid sends: messages typed and sent as fast as the composer takes them are shown at once in order, sent in
 * order, and each gets its own reply (the mock echoes "Mock reply: <text>"), with nothing left queued.
 */
for (const count of [3, 10]) {
  test(`${count} messages sent back to back: in order, each paired with its own reply`, async ({
    conversation: { id, chat },
    api,
    consoleErrors,
  }) => {
    test.setTimeout(90_000 + count * 5_000);
    const texts = Array.from({ length: count }, (_, i) => `rapid ${i + 1} of ${count}`);
    for (const text of texts) await chat.send(text);

    // Every message is on screen, in order, before any reply could have come back.
    await expect(chat.userMessages).toHaveCount(count);

    const expected = texts.flatMap((text) => [
      { role: "user", text },
      { role: "assistant", text: `Mock reply: ${text}` },
    ]);
    const server = await expectConverged(chat, api, id, 60_000 + count * 5_000);
    expect(server.map(({ role, text }) => ({ role, text }))).toEqual(
      expected.map(({ role, text }) => ({ role, text: text.replace(/\s+/g, "") })),
    );
    // Unsquashed, exactly as shown (a reply's markdown ends its paragraph with a newline).
    const shown = await chat.transcript();
    expect(shown.map(({ role, text }) => ({ role, text: text.trim() }))).toEqual(expected);
    expect(shown.map((m) => m.state)).toEqual(texts.flatMap(() => ["sent", "completed"]));
    expect(consoleErrors).toEqual([]);
  });
}
