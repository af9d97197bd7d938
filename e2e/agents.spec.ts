import { expect, test } from "./fixtures";
import { AgentsPage } from "./pages/agents";
import { ChatPage } from "./pages/chat";

test("create an agent from the bundled profile: its detail shows its files, and a conversation with it gets a reply", async ({
  signedIn: page,
  consoleErrors,
}) => {
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  const name = `Tea sommelier ${test.info().workerIndex}-${Date.now() % 100_000}`;

  await agents.open();
  await expect(page.getByRole("link", { name: "Default Assistant", exact: true })).toBeVisible();
  await agents.create(name);

  // The detail page: the name, where it came from, and its files copied into a new git repository.
  const header = page.locator("main header");
  await expect(header).toContainText("Created from default-assistant");
  await expect(page.getByText(/^[0-9a-f]{10}$/)).toBeVisible(); // its first commit
  const files = page.getByRole("tablist", { name: "Agent files" });
  for (const file of ["agent.yml", "AGENT.md", "SOUL.md"]) {
    await expect(files.getByRole("tab", { name: file, exact: true })).toBeVisible();
  }
  const panel = page.getByRole("tabpanel");
  // agent.yml first, renamed in the copy.
  await expect(panel).toContainText(`name: ${name}`);
  await files.getByRole("tab", { name: "AGENT.md", exact: true }).click();
  // Markdown is rendered, not shown as source.
  await expect(panel.getByRole("heading", { name: "How you work", level: 1 })).toBeVisible();
  await expect(panel).not.toContainText("# How you work");

  // It is listed under the user's agents.
  await agents.open();
  await expect(
    page.getByRole("region", { name: /Your agents/ }).getByRole("link", { name, exact: true }),
  ).toBeVisible();
  await page.getByRole("link", { name, exact: true }).click();

  await agents.startConversation(name);
  await chat.send("Which tea today?");
  await expect(page).toHaveURL(/\/conversations\/[0-9a-f-]{36}$/);
  await expect(page.locator("main header")).toContainText(name);
  await chat.expectCompletedReply("Mock reply: Which tea today?");
  expect(consoleErrors).toEqual([]);
});
