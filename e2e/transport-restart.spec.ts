import net from "node:net";
import { Api } from "./api";
import { OWNER } from "./fixtures";
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

for (const how of ["restart", "crash"] as const) {
  test(`server ${how} mid-stream: the reply fails as interrupted, the page says so, Retry works`, async ({
    page,
    consoleErrors,
  }) => {
    test.setTimeout(240_000); // two cold starts on a loaded machine
    const instance = await new Instance(undefined, { PORT: String(await freePort()) }).start();
    try {
      const api = new Api(page, instance.url);
      const created = await api.call("POST", "/api/setup", { ...OWNER, passwordConfirmation: OWNER.password }, [201]);
      expect(created).toBeTruthy();
      await setAppFlags(page, { "cybros.debug": "1" });
      const scenario = "slow-then-quick";
      await api.defineScenario(scenario, [{ reply: "long", kb: 64, chunk_size: 64, delay: 50 }]);
      const id = await api.createConversation();
      const chat = new ChatPage(page);
      await page.goto(`${instance.url}/conversations/${id}`);
      await expect(chat.composer).toBeVisible();

      await chat.send(`/mock scenario name=${scenario}`);
      await expect(chat.lastReply).toContainText("00020:");
      await expect(chat.lastReply).toHaveAttribute("data-indicator", "streaming");
      if (how === "restart") {
        await instance.restart();
      } else {
        await instance.stop("SIGKILL");
        await instance.start();
      }

      // The page was not reloaded: it reconnects (or polls) on its own and learns the run's end.
      const failure = chat.lastReply.getByRole("alert");
      await expect(failure).toContainText("The server restarted while writing this reply.", { timeout: 60_000 });
      await expect(chat.stopButton).toBeHidden();
      const failed = (await api.messages(id)).at(-1)!;
      expect([failed.role, failed.state, failed.error?.code]).toEqual(["assistant", "errored", "interrupted"]);

      // The mock's scenarios lived in the old process: script the retry's answer anew.
      await api.defineScenario(scenario, [{ reply: "text", text: `Back after the ${how}.` }]);
      await failure.getByRole("button", { name: "Retry" }).click();
      await expectConverged(chat, api, id, 60_000);
      expect((await chat.transcript()).map((m) => [m.role, m.text.trim(), m.state])).toEqual([
        ["user", `/mock scenario name=${scenario}`, "sent"],
        ["assistant", `Back after the ${how}.`, "completed"],
      ]);
      // While the server was down, the page's requests failed as a network failure does, and nothing else.
      expect(
        consoleErrors.filter(
          (e) =>
            !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING/.test(e),
        ),
      ).toEqual([]);
    } finally {
      await instance.dispose();
    }
  });
}
