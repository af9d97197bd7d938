import { expect, test, uniqueSuffix } from "./fixtures";
import { AgentsPage } from "./pages/agents";
import { ChatPage } from "./pages/chat";

test("create an agent from the bundled profile: its detail shows its files, and a conversation with it gets a reply", async ({
  signedIn: page,
  consoleErrors,
}) => {
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  const name = `Tea sommelier ${uniqueSuffix()}`;

  await agents.open();
  await expect(page.getByRole("link", { name: "Default Assistant", exact: true })).toBeVisible();
  await agents.create(name);

  // The detail page: the name, where it came from, and its files copied into a new git repository.
  const header = page.locator("main header");
  await expect(header).toContainText("Created from default-assistant");
  await expect(page.getByText(/^[0-9a-f]{10}$/)).toBeVisible(); // its first commit
  for (const file of ["agent.yml", "AGENT.md", "SOUL.md", "system.md.liquid"]) {
    await expect(agents.files.getByRole("button", { name: file, exact: true })).toBeVisible();
  }
  // agent.yml first, renamed in the copy, as source to edit.
  await expect(agents.editor("agent.yml")).toHaveValue(new RegExp(`name: ${name}`));
  await agents.openFile("AGENT.md");
  await expect(agents.editor("AGENT.md")).toHaveValue(/^# How you work/);

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

  // Reply details name the agent version the reply ran with and link to it in the agent's history.
  await page.getByRole("button", { name: "Details" }).last().click();
  await page.getByRole("link", { name: /^[0-9a-f]{10}$/ }).click();
  await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}\/history\/[0-9a-f]{40}$/);
  await expect(page.getByRole("list", { name: "Versions" }).locator('[aria-current="true"]')).toContainText(
    `Create ${name} from the default-assistant profile`,
  );
  expect(consoleErrors).toEqual([]);
});

test("edit SOUL.md in the browser, see the version and its diff in History, revert it", async ({
  signedIn: page,
  consoleErrors,
}) => {
  const agents = new AgentsPage(page);
  await agents.open();
  await agents.create(`Editor ${uniqueSuffix()}`);
  await agents.openFile("SOUL.md");
  const original = await agents.editor("SOUL.md").inputValue();

  // An invalid agent.yml is refused with the file, line and reason; nothing is saved.
  await agents.editAndSave("agent.yml", "name: Broken\nmodel:\n  prefer: 3\n");
  await expect(page.getByRole("alert")).toContainText("agent.yml: line 3: model.prefer: must be a list of strings");
  await page.getByRole("button", { name: "Undo edits" }).click();

  await agents.editAndSave("SOUL.md", "Be concise. Answer in one sentence.\n", "Shorter answers");
  await expect(page.getByText(/^Saved SOUL\.md as [0-9a-f]{7}$/)).toBeVisible();

  const versions = await agents.openHistory();
  const latest = versions.getByRole("listitem").first();
  await expect(latest).toContainText("Shorter answers");
  await expect(latest).toContainText("Person");
  const diff = page.getByRole("region", { name: "SOUL.md" });
  await expect(diff).toContainText("+Be concise. Answer in one sentence.");

  await page.getByRole("button", { name: "Revert" }).click();
  await expect(versions.getByRole("listitem").first()).toContainText('Revert "Shorter answers"');
  await expect(versions.getByRole("listitem").first()).toContainText("Revert");

  await page
    .getByRole("main")
    .getByRole("link", { name: /^Editor / })
    .click();
  await agents.openFile("SOUL.md");
  await expect(agents.editor("SOUL.md")).toHaveValue(original);
  // The refused save above is the one expected failed request.
  expect(consoleErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
});

test("add a file in the browser: a new skill is saved as a version and its agent lists it", async ({
  signedIn: page,
  consoleErrors,
}) => {
  const agents = new AgentsPage(page);
  await agents.open();
  await agents.create(`Adder ${uniqueSuffix()}`);
  await page.getByRole("button", { name: "New file" }).click();
  await page.getByLabel("Path").fill("skills/packing/SKILL.md");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByText("New, unsaved")).toBeVisible();
  await agents
    .editor("skills/packing/SKILL.md")
    .fill("---\nname: packing\ndescription: Packing lists for trips\n---\n\nList clothes by day, then the rest.\n");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText(/^Saved skills\/packing\/SKILL\.md as [0-9a-f]{7}$/)).toBeVisible();
  await expect(page.getByText("New, unsaved")).toHaveCount(0);

  // After a reload it is one of the agent's files, and History has its version.
  await page.reload();
  // Its name alone is not unique (the profile has skills of its own): pick it by its path.
  await page.getByRole("navigation", { name: "Agent files" }).getByTitle("skills/packing/SKILL.md").click();
  await expect(agents.editor("skills/packing/SKILL.md")).toHaveValue(/Packing lists for trips/);
  const versions = await agents.openHistory();
  await expect(versions.getByRole("listitem").first()).toContainText("Add skills/packing/SKILL.md");
  expect(consoleErrors).toEqual([]);
});

test("delete an agent after confirming: it leaves the list, its conversation stays readable", async ({
  signedIn: page,
  consoleErrors,
}) => {
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  const name = `Short-lived ${uniqueSuffix()}`;
  await agents.open();
  const id = await agents.create(name);
  await agents.startConversation(name);
  await chat.send("Remember me");
  await chat.expectCompletedReply("Mock reply: Remember me");
  const conversationUrl = page.url();

  await page.goto(`/agents/${id}`);
  await agents.delete(name);
  await expect(page.getByRole("main").getByRole("link", { name, exact: true })).toHaveCount(0);

  await page.goto(conversationUrl);
  await expect(page.locator("main header")).toContainText(name);
  await chat.expectCompletedReply("Mock reply: Remember me");
  expect(consoleErrors).toEqual([]);
});
