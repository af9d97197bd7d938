import net from "node:net";
import { Api } from "./api";
import { collectErrors, OWNER } from "./fixtures";
import { Instance } from "./instance";
import { ChatPage } from "./pages/chat";
import { expect, expectConverged, setAppFlags, test } from "./transport";

/**
 * The server goes away mid-stream — a graceful restart (SIGTERM) and a crash (SIGKILL) — and comes back on the
 * same address. The open page reconnects by itself; the reply ends as failed "interrupted" and says so; Retry
 * writes a new reply in its place. Runs on its own instance (a fixed port, so the page's address stays valid),
 * leaving the worker's shared one alone.
 */

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

test("server restart and crash mid-stream: each reply fails as interrupted, the page says so, Retry works", async ({
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
    const scenario = "slow";
    const slow = { reply: "long", kb: 64, chunk_size: 64, delay: 50 };
    const id = await api.createConversation();
    const chat = new ChatPage(page);
    await page.goto(`${instance.url}/conversations/${id}`);
    await expect(chat.composer).toBeVisible();
    const expected: string[][] = [];

    for (const how of ["restart", "crash"] as const) {
      await api.defineScenario(scenario, [slow]);
      const message = `/mock scenario name=${scenario} key=${how}`;
      await chat.send(message);
      await expect(chat.lastReply).toContainText("00020:");
      await expect(chat.lastReply).toHaveAttribute("data-indicator", "streaming");
      if (how === "restart") {
        await instance.restart();
      } else {
        await instance.stop("SIGKILL");
        await instance.start();
      }

      // The page was not reloaded: it reconnects (or polls) on its own and learns the run's end, and shows
      // exactly the text the server kept (after a crash, less than it had seen live: the unsaved tail is gone).
      const failure = chat.lastReply.getByRole("alert");
      await expect(failure).toContainText("The server restarted while writing this reply.", { timeout: 60_000 });
      await expect(chat.stopButton).toBeHidden();
      const failed = (await api.messages(id)).at(-1)!;
      expect([failed.role, failed.state, failed.error?.code]).toEqual(["assistant", "errored", "interrupted"]);
      expect(failed.text.length).toBeGreaterThan(20 * 70);
      await expectConverged(chat, api, id, 60_000);

      // The mock's scenarios lived in the old process: script the retry's answer anew.
      await api.defineScenario(scenario, [{ reply: "text", text: `Back after the ${how}.` }]);
      await failure.getByRole("button", { name: "Retry" }).click();
      await expectConverged(chat, api, id, 60_000);
      expected.push(["user", message, "sent"], ["assistant", `Back after the ${how}.`, "completed"]);
      expect((await chat.transcript()).map((m) => [m.role, m.text.trim(), m.state])).toEqual(expected);
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
