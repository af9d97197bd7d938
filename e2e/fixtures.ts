import { type APIRequestContext, test as base, expect, type Page } from "@playwright/test";
import { Instance } from "./instance";

export const OWNER = { email: "owner@example.com", password: "correct horse battery" };

type WorkerFixtures = { instance: Instance };
type TestFixtures = {
  signedIn: Page;
  consoleErrors: string[];
  apiRequest: APIRequestContext;
  freshInstance: Instance;
};

/**
 * `instance`: one fresh Cybros process per worker. `signedIn`: a page whose context has a session (setup runs
 * through the API the first time). `consoleErrors`: console errors and failed requests seen by the page.
 * `apiRequest`: the API with the signed-in page's session, for setting up and checking what pages show.
 * `freshInstance`: a process of the test's own on an empty data folder, before its first-run setup.
 */
export const test = base.extend<TestFixtures, WorkerFixtures>({
  instance: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies by destructuring
    async ({}, use) => {
      const instance = await new Instance().start();
      await use(instance);
      await instance.dispose();
    },
    { scope: "worker", timeout: 180_000 },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies by destructuring
  freshInstance: async ({}, use, testInfo) => {
    testInfo.setTimeout(testInfo.timeout + 120_000); // a first start on an empty data folder
    const instance = await new Instance().start();
    await use(instance);
    await instance.dispose();
  },
  baseURL: async ({ instance }, use) => {
    await use(instance.url);
  },
  consoleErrors: async ({ page }, use) => {
    await use(collectErrors(page));
  },
  signedIn: async ({ page, instance }, use) => {
    const request = page.context().request;
    const state = await (await request.get(`${instance.url}/api/session`)).json();
    const headers = { origin: instance.url };
    if (state.setupRequired) {
      const created = await request.post(`${instance.url}/api/setup`, {
        data: { ...OWNER, passwordConfirmation: OWNER.password },
        headers,
      });
      expect(created.status()).toBe(201);
    } else {
      const login = await request.post(`${instance.url}/api/session`, { data: OWNER, headers });
      expect(login.status()).toBe(201);
    }
    await use(page);
  },
  // A new connection per request: Playwright pools keep-alive sockets past the server's 5 s keep-alive, and a
  // request on one the server just closed fails with ECONNRESET (microsoft/playwright#42698).
  apiRequest: async ({ playwright, signedIn, instance }, use) => {
    const context = await playwright.request.newContext({
      baseURL: instance.url,
      storageState: await signedIn.context().storageState(),
      extraHTTPHeaders: { origin: instance.url, connection: "close" },
    });
    await use(context);
    await context.dispose();
  },
});

/** Console errors, uncaught exceptions, failed requests and 5xx answers seen by a page, as they happen. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("requestfailed", (request) => {
    const failure = request.failure()?.errorText ?? "";
    // Navigations and closed event streams abort requests by design.
    if (/ERR_ABORTED/.test(failure)) return;
    errors.push(`requestfailed: ${request.method()} ${request.url()} ${failure}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 500) errors.push(`http ${response.status()}: ${response.url()}`);
  });
  return errors;
}

/** A suffix that keeps names made by this test apart from other workers' and earlier runs'. */
export function uniqueSuffix(): string {
  return `${test.info().workerIndex}-${Date.now() % 100_000}`;
}

export { expect };
