import type { Page } from "@playwright/test";
import { expect, OWNER, test } from "./fixtures";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";

/** Content-Security-Policy violations a page reports, as events and as console messages. */
async function watchPolicyViolations(page: Page): Promise<() => Promise<string[]>> {
  const console: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) console.push(message.text());
  });
  // Injected by the browser's debugging protocol, so the policy does not block it.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) =>
      seen.push(
        `${event.violatedDirective} ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`,
      ),
    );
  });
  return async () => [
    ...console,
    ...(await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? [])),
  ];
}

test("the app runs under its Content-Security-Policy: setup, chat, sign-out and sign-in break no rule", async ({
  page,
  consoleErrors,
  freshInstance: instance,
}) => {
  const violations = await watchPolicyViolations(page);
  const landing = await page.goto(instance.url);
  const headers = await landing!.allHeaders();
  expect(headers["content-security-policy"]).toContain("script-src 'self'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  await expect(page).toHaveURL(/\/setup$/);
  expect(await violations()).toEqual([]);

  const auth = new AuthPages(page);
  await auth.completeSetup(OWNER.email, OWNER.password);
  await expect(page).toHaveURL(/\/conversations/);
  // Setup lands on this instance's composer (Shell.startConversation would open the worker's): the first send
  // creates the conversation.
  const chat = new ChatPage(page);
  await chat.send("Is **markdown** with `code` fine?");
  await expect(page).toHaveURL(/\/conversations\/[0-9a-f-]{36}$/);
  await chat.expectCompletedReply(/Mock reply: Is markdown with code fine\?/);
  expect(await violations()).toEqual([]);

  await auth.signOut();
  await expect(page).toHaveURL(/\/login/);
  await auth.signIn(OWNER.email, OWNER.password);
  await expect(page).toHaveURL(/\/conversations/);
  expect(await violations()).toEqual([]);
  // Signing out ends the session under queries still mounted: their 401s are expected (as in auth.spec.ts).
  expect(consoleErrors.filter((e) => !/401/.test(e))).toEqual([]);
});

test("another host name is refused, on pages and on the API", async ({ playwright, instance }) => {
  const port = new URL(instance.url).port;
  const request = await playwright.request.newContext();
  try {
    for (const path of ["/", "/up", "/api/session", "/mock_llm/v1/models"]) {
      const response = await request.get(`${instance.url}${path}`, { headers: { host: `rebind.example:${port}` } });
      expect(response.status(), path).toBe(421);
    }
    expect((await request.get(`${instance.url}/up`)).status()).toBe(200);
  } finally {
    await request.dispose();
  }
});
