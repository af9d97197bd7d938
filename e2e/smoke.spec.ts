import type { Page } from "@playwright/test";
import { collectErrors, expect, test } from "./fixtures";
import { ChatPage } from "./pages/chat";

/**
 * Every page loads on its own (a full page load each, so server routing and the route guards run too), shows
 * its main landmark and heading, and nothing fails on the way: no console error, no failed request, no 5xx.
 */

/**
 * Loads `path` and checks the page's title, main landmark and the heading it must show. App pages fit the
 * window: their panes scroll, the document never does (or the header and composer would scroll away).
 */
async function visit(
  page: Page,
  path: string,
  title: RegExp,
  heading: { name: string | RegExp; level?: number },
  documentScrolls = false,
) {
  await page.goto(path);
  await expect(page.getByRole("main")).toBeVisible();
  await expect(page.getByRole("main").getByRole("heading", heading)).toBeVisible();
  await expect(page).toHaveTitle(title);
  if (!documentScrolls) {
    const overflow = await page.evaluate(() => document.documentElement.scrollHeight - window.innerHeight);
    expect(overflow, `${path} makes the document scroll`).toBeLessThanOrEqual(0);
  }
}

test("every page renders with no console error or failed request", async ({
  signedIn: page,
  apiRequest,
  instance,
  consoleErrors,
  browser,
}) => {
  // A conversation with a reply, set up through the API.
  const { agents } = await (await apiRequest.get("/api/agents")).json();
  const agent = agents.find((a: { name: string }) => a.name === "Default Assistant");
  const created = await apiRequest.post("/api/conversations", { data: { agentProgramId: agent.id } });
  expect(created.status()).toBe(201);
  const conversation = await created.json();
  const posted = await apiRequest.post(`/api/conversations/${conversation.id}/messages`, {
    data: { content: "Smoke test" },
  });
  expect(posted.status()).toBe(202);

  await visit(page, "/dashboard", /^Dashboard · Cybros$/, { name: /^Good (morning|afternoon|evening)$/, level: 1 });
  await expect(page.getByRole("heading", { name: "Recent conversations" })).toBeVisible();
  await expect(
    page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Dashboard" }),
  ).toHaveAttribute("aria-current", "page");

  await visit(page, "/conversations", /^New conversation · Cybros$/, { name: "What can I help with?", level: 1 });
  await expect(page.getByRole("button", { name: "Agent: Default Assistant. Choose another agent" })).toBeVisible();
  await expect(new ChatPage(page).composer).toBeInViewport();

  // A conversation's landmark is its message list and composer (its title sits in the page header).
  await page.goto(`/conversations/${conversation.id}`);
  await expect(page.getByRole("main")).toBeVisible();
  await expect(page).toHaveTitle(/^Smoke test · Cybros$/);
  const chat = new ChatPage(page);
  await expect(chat.messages).toBeVisible();
  await expect(page.getByRole("heading", { name: "Smoke test", level: 1 })).toBeVisible();
  await chat.expectCompletedReply("Mock reply: Smoke test");
  await expect(chat.composer).toBeInViewport();

  await visit(page, "/agents", /^Agents · Cybros$/, { name: /^Bundled/, level: 2 });
  await expect(page.getByRole("heading", { name: "Agents", level: 1 })).toBeVisible();
  await page.getByRole("main").getByRole("link", { name: "Default Assistant", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/agents/${agent.id}$`));
  await visit(page, `/agents/${agent.id}`, /^Default Assistant · Cybros$/, { name: "Preferred models", level: 2 });
  await expect(page.getByRole("navigation", { name: "Agent files" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Default Assistant", level: 1 })).toBeVisible();

  await visit(page, "/settings", /^Settings · Cybros$/, { name: "Profile", level: 2 });
  await expect(page.getByRole("heading", { name: "Password" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Sessions" })).toBeVisible();

  await visit(page, "/system/settings", /^System settings · Cybros$/, { name: "LLM providers", level: 2 });
  await expect(page.getByRole("heading", { name: "Agent programs" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "System settings", level: 1 })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Account defaults" })).toBeVisible();

  expect(consoleErrors).toEqual([]);

  // Signed out, Home is the landing page with its way in.
  const context = await browser.newContext({ baseURL: instance.url });
  try {
    const visitor = await context.newPage();
    const visitorErrors = collectErrors(visitor);
    await visit(visitor, "/", /^Cybros$/, { name: "AI agents you own, down to the last file.", level: 1 }, true);
    await expect(visitor.getByRole("link", { name: "Get started" })).toHaveAttribute("href", "/login");
    await visitor.getByRole("link", { name: "Get started" }).click();
    await expect(visitor).toHaveURL(/\/login$/);
    await expect(visitor.getByRole("heading", { level: 1 })).toBeVisible();
    expect(visitorErrors).toEqual([]);
  } finally {
    await context.close();
  }
});
