import type { Api, ApiMessage } from "./api";
import {
  expect,
  expectNothingPending,
  expectNumberedLines,
  type HookWindow,
  seededRandom,
  shownTranscript,
  squash,
  test,
  waitForStream,
} from "./transport";

/**
 * A randomized session: for 60 s (TRANSPORT_RANDOM_MS), random interleavings of send (echo, slow text, a long
 * reply, a scripted error), Stop, Retry, reload, offline and back (sending while offline too), and a dropped
 * event stream. Then the invariants: the page shows exactly the server's messages; the server holds every message
 * sent (save ones a reload caught before they left the page), each once, in send order; every reply is its
 * message's own (complete, or a prefix when stopped); nothing is left streaming. The seed is printed: replay
 * a failure with TRANSPORT_SEED=<seed>.
 */

type Kind = "echo" | "slow" | "long" | "error";

const body = (n: number, kind: Kind) => `r${n} ${kind} reply`;
const messageFor: Record<Kind, (n: number) => string> = {
  echo: (n) => body(n, "echo"),
  slow: (n) => `/mock text chunk_size=6 delay=40\n${body(n, "slow")} that streams in small pieces`,
  long: (n) => `/mock long kb=4 chunk_size=64 delay=15\n${body(n, "long")}`,
  error: (n) => `/mock error status=400 times=1\n${body(n, "error")}`,
};

/** The reply the mock gives a message (an error's retry gets the echo of its body). */
function expectedReply(text: string, long: string): string {
  const [first, ...rest] = text.split("\n");
  if (!first!.startsWith("/mock ")) return `Mock reply: ${text}`;
  if (first!.startsWith("/mock text")) return rest.join("\n");
  if (first!.startsWith("/mock long")) return long;
  return `Mock reply: ${rest.join("\n")}`;
}

async function mockLongText(api: Api): Promise<string> {
  const answer = await api.call<{ choices: { message: { content: string } }[] }>(
    "POST",
    "/mock_llm/v1/chat/completions",
    { model: "mock-model", messages: [{ role: "user", content: "/mock long kb=4" }] },
  );
  return answer.choices[0]!.message.content;
}

test("60 s of random send/stop/retry/reload/offline/drop, then the transcript invariants", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  const duration = Number(process.env.TRANSPORT_RANDOM_MS ?? 60_000);
  test.setTimeout(duration + 180_000);
  const seed = Number(process.env.TRANSPORT_SEED ?? Math.floor(Math.random() * 1_000_000));
  console.log(`transport-random seed: ${seed} (replay with TRANSPORT_SEED=${seed})`);
  test.info().annotations.push({ type: "seed", description: String(seed) });
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const long = await mockLongText(api);

  const sent: string[] = [];
  /** Messages still on the page only (not yet accepted) when it reloaded: they may be lost. */
  const mayBeLost = new Set<string>();
  const log: string[] = [];
  const quietly = (action: Promise<unknown>) => action.catch(() => undefined);
  const send = async () => {
    const text = messageFor[pick(["echo", "echo", "slow", "slow", "long", "error"] as const)](sent.length + 1);
    sent.push(text);
    await chat.composer.fill(text);
    await chat.composer.press("Enter");
    log.push(`send ${text.split("\n").join(" | ")}`);
  };

  const deadline = Date.now() + duration;
  while (Date.now() < deadline) {
    const roll = random();
    if (roll < 0.3) {
      await send();
    } else if (roll < 0.4) {
      log.push("stop");
      await quietly(chat.stopButton.click({ timeout: 1_000 }));
    } else if (roll < 0.5) {
      log.push("retry");
      await quietly(page.getByRole("button", { name: "Retry" }).last().click({ timeout: 1_000 }));
    } else if (roll < 0.6) {
      const local = await page
        .locator("[data-local]")
        .evaluateAll((rows) => rows.map((row) => row.firstElementChild?.textContent ?? ""));
      for (const text of local) mayBeLost.add(text);
      log.push(`reload (unsent: ${local.length})`);
      await page.reload();
      await expect(chat.composer).toBeVisible();
    } else if (roll < 0.7) {
      const sendWhileOffline = random() < 0.4;
      const ms = 300 + Math.floor(random() * 1_200);
      log.push(`offline ${ms} ms${sendWhileOffline ? " (sending)" : ""}`);
      await page.context().setOffline(true);
      if (sendWhileOffline) await send();
      await page.waitForTimeout(ms); // the outage itself
      await page.context().setOffline(false);
    } else if (roll < 0.8) {
      log.push("drop");
      await quietly(page.evaluate(() => (window as HookWindow).__cybrosTransport?.drop()));
    } else {
      const ms = 100 + Math.floor(random() * 900);
      log.push(`pause ${ms} ms`);
      await page.waitForTimeout(ms); // a person reading
    }
  }
  console.log(`${log.length} actions:\n  ${log.join("\n  ")}`);

  // Settle: online, stream open, no local bubble left, the server idle.
  await page.context().setOffline(false);
  await waitForStream(page);
  await expect(page.locator("[data-local]")).toHaveCount(0, { timeout: 60_000 });
  await api.waitForIdle(id, 120_000);
  const server = await api.messages(id);

  // The server: each message once, in send order, none missing but ones a reload may have lost.
  const users = server.filter((m) => m.role === "user").map((m) => m.text);
  expect(new Set(users).size, "no message twice").toBe(users.length);
  expect(
    sent.filter((t) => users.includes(t)),
    "messages kept in send order",
  ).toEqual(users);
  expect(
    sent.filter((t) => !users.includes(t) && !mayBeLost.has(t)),
    "messages lost",
  ).toEqual([]);
  // Every reply is its own message's: complete, or a prefix when stopped; at most one per message.
  for (const [index, message] of server.entries()) {
    if (message.role === "user") {
      expect(server[index + 1]?.role === "assistant" && server[index + 2]?.role === "assistant").toBe(false);
      continue;
    }
    const asked = server[index - 1]!;
    expect(asked.role, `reply ${message.id} follows a message`).toBe("user");
    checkReply(message, expectedReply(asked.text, long));
  }

  // The page: exactly the server's messages, and replies without a message (a run stopped while queued, or
  // failed before writing) only as finished outcomes.
  const expected = server.map((m) => ({ role: m.role, id: m.id, text: squash(m.text) }));
  // The page loads the latest 50 messages; earlier ones come with "Load earlier messages".
  const earlier = page.getByRole("button", { name: "Load earlier messages" });
  while (await earlier.isVisible()) await quietly(earlier.click({ timeout: 2_000 }));
  await expect.poll(async () => (await shownTranscript(chat)).filter((m) => m.id !== null)).toEqual(expected);
  const shown = await chat.transcript();
  for (const row of shown.filter((m) => m.id === null)) expect(["errored", "canceled"]).toContain(row.state);
  await expectNothingPending(chat);
  const ids = shown.flatMap((m) => (m.id ? [m.id] : []));
  expect(new Set(ids).size).toBe(ids.length);

  // Offline switches, dropped streams and Stop/Retry on a run that just ended fail requests as expected.
  const expectedFailures = /ERR_INTERNET_DISCONNECTED|ERR_NETWORK_CHANGED|ERR_NETWORK_IO_SUSPENDED|status of 409/;
  expect(consoleErrors.filter((e) => !expectedFailures.test(e))).toEqual([]);
});

function checkReply(message: ApiMessage, full: string) {
  if (message.state === "completed") {
    expect(message.text, `reply ${message.id}`).toBe(full);
    if (full.startsWith("00001:")) expectNumberedLines(message.text);
  } else if (message.state === "canceled" || message.state === "errored") {
    expect(full.startsWith(message.text), `stopped reply ${message.id} is a prefix of its full text`).toBe(true);
  } else {
    throw new Error(`reply ${message.id} is still ${message.state}`);
  }
}
