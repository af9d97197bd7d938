import { isDeepStrictEqual } from "node:util";
import type { Page } from "@playwright/test";
import { Api, type ApiMessage } from "./api";
import { test as base, expect } from "./fixtures";
import { ChatPage, type ShownMessage } from "./pages/chat";

/**
 * Shared by the transport matrix (e2e/transport-*.spec.ts): a signed-in page on a fresh conversation, with the
 * chat's test hook (`window.__cybrosTransport`) enabled in the production build through its localStorage flag,
 * and helpers that compare what the page shows with the server's transcript.
 */

export interface ChatFixtures {
  api: Api;
  /** A new, empty conversation with the Default Assistant (on the mock LLM), opened in the page. */
  conversation: { id: string; chat: ChatPage; page: Page };
  /** Options read by the web app at startup: the test hook, shorter stuck timers. */
  appFlags: Record<string, string>;
  /** Record every state of every reply bubble (see `sampleReplies`). */
  sampling: boolean;
}

export const test = base.extend<ChatFixtures>({
  appFlags: [{ "cybros.debug": "1" }, { option: true }],
  sampling: [false, { option: true }],
  api: async ({ signedIn, instance }, use, testInfo) => {
    const from = instance.logs.length;
    await use(new Api(signedIn, instance.url));
    if (testInfo.status !== testInfo.expectedStatus) {
      // The server's warnings and errors during the test, to tell a test's fault from the app's.
      const lines = instance.logs.slice(from).filter((line) => /"level":(4|5|6)\d/.test(line));
      console.log(`server warnings and errors during the test:\n${lines.slice(-100).join("\n")}`);
    }
  },
  conversation: async ({ signedIn, api, appFlags, sampling }, use) => {
    await setAppFlags(signedIn, appFlags);
    if (sampling) await sampleReplies(signedIn);
    const id = await api.createConversation();
    const chat = new ChatPage(signedIn);
    await chat.open(id);
    await waitForStream(signedIn);
    await use({ id, chat, page: signedIn });
  },
});

export { expect };

/** The chat's event stream is open (through the test hook). */
export async function waitForStream(page: Page) {
  await expect
    .poll(() => page.evaluate(() => (window as HookWindow).__cybrosTransport?.status()?.state ?? "none"))
    .toBe("open");
}

/** Sets localStorage flags before any of the app's code runs, on every page load of the context. */
export async function setAppFlags(page: Page, flags: Record<string, string>) {
  await page.context().addInitScript((entries) => {
    for (const [key, value] of Object.entries(entries)) window.localStorage.setItem(key, value);
  }, flags);
}

/** Text without whitespace: rendered markdown joins lines and blocks differently, never changes the characters. */
export function squash(text: string): string {
  return text.replace(/\s+/g, "");
}

/** The server's messages as the page should show them. */
export function expectedTranscript(messages: ApiMessage[]): Pick<ShownMessage, "role" | "id" | "text">[] {
  return messages.map((m) => ({ role: m.role, id: m.id, text: squash(m.text) }));
}

/** The page's transcript, whitespace squashed, for comparison with `expectedTranscript`. */
export async function shownTranscript(chat: ChatPage): Promise<Pick<ShownMessage, "role" | "id" | "text">[]> {
  return (await chat.transcript()).map((m) => ({ role: m.role, id: m.id, text: squash(m.text) }));
}

/**
 * The page converges on exactly the server's transcript (ids, roles, texts, order, nothing more) and nothing is
 * left streaming. The server's side is read again on every try: a send or a Retry still in flight when this is
 * called (its request not yet answered, a retry not yet queued) changes the truth the page must reach.
 */
export async function expectConverged(chat: ChatPage, api: Api, conversationId: string, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let server = expectedTranscript(await api.settledTranscript(conversationId, timeout));
  let shown = await shownTranscript(chat);
  // A control still busy (a Stop or Retry whose request is unanswered) means the truth is about to change.
  const busy = chat.replies.page().locator('[aria-busy="true"]');
  while ((!isDeepStrictEqual(shown, server) || (await busy.count()) > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250)); // polling interval
    server = expectedTranscript(await api.settledTranscript(conversationId, Math.max(1_000, deadline - Date.now())));
    shown = await shownTranscript(chat);
  }
  try {
    expect(shown).toEqual(server);
  } catch (error) {
    const alerts = await chat.replies.page().getByRole("alert").allTextContents();
    throw new Error(`${(error as Error).message}\nalerts on the page: ${JSON.stringify(alerts)}`);
  }
  await expectNothingPending(chat);
  return server;
}

/** No reply queued or streaming, no typing dots, no Stop, no optimistic bubble waiting to be sent, no busy control. */
export async function expectNothingPending(chat: ChatPage) {
  await chat.expectSettled();
  const page = chat.replies.page();
  await expect(page.getByRole("status", { name: "Assistant is typing" })).toHaveCount(0);
  await expect(page.locator("[data-local]")).toHaveCount(0);
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
}

/**
 * The mock's `long` reply is numbered lines ("00001: …"): each number must appear once, in order, from 1 up.
 * Returns how many lines the text holds.
 */
export function expectNumberedLines(text: string): number {
  const numbers = [...text.matchAll(/(\d{5}):/g)].map((m) => Number(m[1]));
  const wrong = numbers.findIndex((n, i) => n !== i + 1);
  expect(wrong, `line ${wrong + 1} is numbered ${numbers[wrong]}: a segment is duplicated or missing`).toBe(-1);
  return numbers.length;
}

/** The chat's test hook (apps/web/src/chat/useChatSession.ts), enabled by the `cybros.debug` flag. */
export interface TransportHook {
  conversationId: string;
  inject(events: unknown[]): void;
  drop(): void;
  reconnect(): void;
  status(): { state: string; cursor: number; failures: number; received: number } | null;
}
export type HookWindow = Window & { __cybrosTransport?: TransportHook; __replySamples?: Record<string, string[]> };

/**
 * Records, on every page load from now on, what each reply bubble shows (whitespace squashed) whenever it
 * changes, checked every 50 ms: `expectSamplesArePrefixes` then proves no moment showed garbled or doubled text.
 */
export async function sampleReplies(page: Page) {
  await page.context().addInitScript(() => {
    const w = window as HookWindow;
    const samples: Record<string, string[]> = {};
    w.__replySamples = samples;
    setInterval(() => {
      for (const row of Array.from(
        document.querySelectorAll<HTMLElement>('[data-role="assistant"][data-message-id]'),
      )) {
        const id = row.dataset.messageId!;
        const text = (row.querySelector(".chat-markdown")?.textContent ?? "").replace(/\s+/g, "");
        samples[id] ??= [];
        const seen = samples[id];
        if (seen[seen.length - 1] !== text) seen.push(text);
      }
    }, 50);
  });
}

/** The samples recorded since this page load (call before a reload, which forgets them). */
export async function collectSamples(page: Page, into: Record<string, string[]> = {}) {
  const samples = await page.evaluate(() => (window as HookWindow).__replySamples ?? {});
  for (const [id, texts] of Object.entries(samples)) into[id] = [...(into[id] ?? []), ...texts];
  return into;
}

/** Every sample of the reply was a prefix of its final text; returns how many samples were partial. */
export function expectSamplesArePrefixes(samples: string[] | undefined, final: string): number {
  expect(samples?.length ?? 0, "the reply was sampled").toBeGreaterThan(0);
  const squashed = squash(final);
  for (const [index, sample] of (samples ?? []).entries()) {
    if (!squashed.startsWith(sample)) {
      const at = [...sample].findIndex((c, i) => c !== squashed[i]);
      throw new Error(
        `sample ${index} (${sample.length} chars) departs from the final text at ${at}: …${sample.slice(Math.max(0, at - 40), at + 40)}…`,
      );
    }
  }
  return (samples ?? []).filter((s) => s.length > 0 && s.length < squashed.length).length;
}

/** A small seeded PRNG (mulberry32): a failing random order can be replayed from its printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
