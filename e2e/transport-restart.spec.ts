import { freePort } from "../apps/server/src/testing/ports";
import { Api } from "./api";
import { collectErrors, OWNER } from "./fixtures";
import { Instance } from "./instance";
import { ChatPage } from "./pages/chat";
import { expect, expectConverged, setAppFlags, test } from "./transport";

/**
 * The server goes away mid-stream — a graceful restart (SIGTERM) and a crash (SIGKILL) — and comes back on the
 * same address. The open page reconnects by itself; the cut reply stays, marked interrupted, and the run writes the
 * reply again in full on its own (a model call repeated once after a restart). Runs on its own instance (a fixed
 * port, so the page's address stays valid), leaving the worker's shared one alone.
 */

test("server restart and crash mid-stream: the cut reply stays marked interrupted, the reply is written again", async ({
  browser,
}) => {
  test.setTimeout(300_000); // three cold starts on a loaded machine
  const instance = await new Instance(undefined, { PORT: String(await freePort()) }).start();
  // A context of its own: the `page` fixture would start the worker's shared instance for nothing.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const consoleErrors = collectErrors(page);
    const api = new Api(page, instance.url);
    await api.call("POST", "/api/setup", { ...OWNER, passwordConfirmation: OWNER.password }, [201]);
    await setAppFlags(page, { "cybros.debug": "1" });
    const id = await api.createConversation();
    const chat = new ChatPage(page);
    await page.goto(`${instance.url}/conversations/${id}`);
    await expect(chat.composer).toBeVisible();

    for (const [turn, how] of (["restart", "crash"] as const).entries()) {
      // The directive is in the message, so the repeat after the restart streams the same reply.
      const message = "/mock long kb=4 chunk_size=64 delay=50";
      await chat.send(message);
      // The new reply's own text: the one before it (two per earlier turn: cut and whole) holds "00020:" too.
      await expect(chat.replies).toHaveCount(turn * 2 + 1);
      await expect(chat.lastReply).toContainText("00020:");
      await expect(chat.lastReply).toHaveAttribute("data-indicator", "streaming");
      if (how === "restart") {
        await instance.restart();
      } else {
        await instance.stop("SIGKILL");
        await instance.start();
      }

      // The page was not reloaded: it reconnects (or polls) on its own and follows the repeated call to its end.
      await expectConverged(chat, api, id, 90_000);
      const messages = (await api.messages(id)).slice(turn * 3);
      expect(messages.map((m) => [m.role, m.state, m.error?.code ?? null])).toEqual([
        ["user", "completed", null],
        ["assistant", "errored", "interrupted"],
        ["assistant", "completed", null],
      ]);
      const [, cut, whole] = messages;
      // After a crash the cut reply holds less than the page had seen live: the unsaved tail is gone.
      expect(cut!.text.length).toBeGreaterThan(20 * 70);
      expect(whole!.text).toHaveLength(4096);
      expect(whole!.text.startsWith(cut!.text)).toBe(true);
      await expect(chat.lastReply).toHaveAttribute("data-indicator", "completed");
      await expect(page.getByText("The server restarted while writing this reply.")).toHaveCount(turn + 1);
    }
    // While the server was down, the page's requests failed as a network failure does, and nothing else.
    const down =
      /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_SOCKET_NOT_CONNECTED|ERR_INCOMPLETE_CHUNKED_ENCODING/;
    expect(consoleErrors.filter((e) => !down.test(e))).toEqual([]);
  } finally {
    await context.close();
    await instance.dispose();
  }
});
