import { randomBytes } from "node:crypto";
import { Api } from "./api";
import { collectErrors, OWNER } from "./fixtures";
import { Instance } from "./instance";
import { ChatPage } from "./pages/chat";
import {
  collectSamples,
  expect,
  expectConverged,
  expectNumberedLines,
  expectSamplesArePrefixes,
  sampleReplies,
  setAppFlags,
  test,
  waitForStream,
} from "./transport";

/**
 * Two server processes on one PostgreSQL database, a tab on each: a reply written by one process streams into
 * the tab on the other (events cross processes through LISTEN/NOTIFY), and both tabs end on the same exact
 * transcript, whichever process took the message. Needs a PostgreSQL server (CYBROS_TEST_DATABASE_URL, as CI
 * provides); PGlite allows one process per data folder.
 */

const adminUrl = process.env.CYBROS_TEST_DATABASE_URL;

async function scratchDatabase(): Promise<string> {
  const { default: pg } = await import("pg");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const name = `cybros_e2e_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

test("tabs on two server processes sharing PostgreSQL stay in sync", async ({ browser }) => {
  test.skip(!adminUrl, "needs a PostgreSQL server: set CYBROS_TEST_DATABASE_URL (CI does)");
  test.setTimeout(300_000);
  // One database and one secret key: the processes of one installation.
  const env = { DATABASE_URL: await scratchDatabase(), CYBROS_SECRET_KEY: randomBytes(32).toString("hex") };
  const one = await new Instance(undefined, env).start();
  const two = await new Instance(undefined, env).start();
  const context = await browser.newContext();
  try {
    // One session for both: the cookie is the host's (127.0.0.1), whatever the port; sessions live in the database.
    const api = new Api(context.request, one.url);
    await api.call("POST", "/api/setup", { ...OWNER, passwordConfirmation: OWNER.password }, [201]);
    const pageOne = await context.newPage();
    await setAppFlags(pageOne, { "cybros.debug": "1" });
    await sampleReplies(pageOne);
    const pageTwo = await context.newPage();
    const errors = [...[pageOne, pageTwo].map(collectErrors)];
    const id = await api.createConversation();
    const a = new ChatPage(pageOne);
    const b = new ChatPage(pageTwo);
    await pageOne.goto(`${one.url}/conversations/${id}`);
    await pageTwo.goto(`${two.url}/conversations/${id}`);
    for (const page of [pageOne, pageTwo]) await waitForStream(page);

    // Sent to process one, written there, streamed into the tab on process two.
    await a.send("/mock long kb=16 chunk_size=64 delay=20");
    await expect(b.lastReply).toContainText("00020:");
    await expect(b.lastReply).toHaveAttribute("data-indicator", "streaming");
    const first = await expectConverged(b, api, id);
    await expectConverged(a, api, id);
    expectNumberedLines(first[1]!.text);
    for (const page of [pageOne, pageTwo]) {
      expectSamplesArePrefixes((await collectSamples(page))[first[1]!.id!], first[1]!.text);
    }

    // The other way, then both at once.
    await b.send("hello from process two");
    await expect(a.lastReply).toContainText("Mock reply: hello from process two");
    await Promise.all([a.send("at once on one"), b.send("at once on two")]);
    const final = await expectConverged(a, api, id, 60_000);
    await expectConverged(b, api, id, 60_000);
    expect(final.map((m) => m.text).slice(2)).toEqual(
      expect.arrayContaining(["hellofromprocesstwo", "atonceonone", "atonceontwo"]),
    );
    for (let i = 0; i < final.length; i += 2) expect(final[i]!.role).toBe("user");
    for (let i = 2; i < final.length; i += 2) expect(final[i + 1]!.text).toBe(`Mockreply:${final[i]!.text}`);
    expect(errors.flat()).toEqual([]);
  } finally {
    await context.close();
    await Promise.all([one.dispose(), two.dispose()]);
  }
});
