import fs from "node:fs";
import path from "node:path";
import { expect, test, uniqueSuffix } from "./fixtures";
import { AgentsPage } from "./pages/agents";
import { ChatPage } from "./pages/chat";
import { bareRepository } from "./repos";

const repoRoot = path.resolve(import.meta.dirname, "..");

test("create a blank agent and one from a file:// Git URL, and chat with each", async ({
  signedIn: page,
  consoleErrors,
}) => {
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  const suffix = uniqueSuffix();

  await agents.open();
  const blank = `Blank slate ${suffix}`;
  await agents.createFrom({ blank: true }, blank);
  await expect(page.locator("main header")).toContainText("Created blank");
  await agents.startConversation(blank);
  await chat.send("Hello blank");
  await chat.expectCompletedReply("Mock reply: Hello blank");

  const repo = bareRepository((work) =>
    fs.cpSync(path.join(repoRoot, "agents/default-assistant"), work, { recursive: true }),
  );
  try {
    await agents.open();
    const cloned = `Cloned helper ${suffix}`;
    await agents.createFrom({ gitUrl: repo.url }, cloned);
    await expect(page.locator("main header")).toContainText("Created from agent");
    await agents.startConversation(cloned);
    await chat.send("Hello clone");
    await chat.expectCompletedReply("Mock reply: Hello clone");
  } finally {
    repo.remove();
  }
  expect(consoleErrors).toEqual([]);
});

test("a Git URL that is not an agent program is refused under the field, and nothing is created", async ({
  signedIn: page,
}) => {
  const agents = new AgentsPage(page);
  const repo = bareRepository((work) => fs.writeFileSync(path.join(work, "README.md"), "not an agent\n"));
  try {
    await agents.open();
    await page.getByRole("button", { name: "New agent" }).click();
    const dialog = page.getByRole("dialog", { name: "New agent" });
    await dialog.getByRole("radio", { name: "Git URL" }).check();
    await dialog.getByRole("textbox", { name: "Git URL" }).fill(repo.url);
    await dialog.getByLabel("Name").fill(`Not an agent ${test.info().workerIndex}`);
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(dialog.getByText("is not a valid agent program: agent.yml: is missing")).toBeVisible();
    await expect(dialog.getByRole("textbox", { name: "Git URL" })).toHaveAttribute("aria-invalid", "true");

    await dialog.getByRole("textbox", { name: "Git URL" }).fill("ssh://git@example.com/x.git");
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(dialog.getByText("must be an https:// or file:// URL")).toBeVisible();
  } finally {
    repo.remove();
  }
});
