import { expect, type Page } from "@playwright/test";

/** /agents: the list, the New agent dialog, and an agent's detail page. */
export class AgentsPage {
  constructor(private readonly page: Page) {}

  async open() {
    await this.page.goto("/agents");
    await expect(this.page.getByRole("searchbox", { name: "Search agents" })).toBeVisible();
  }

  /** New agent → pick the profile → name it → lands on the new agent's page; returns its id. */
  async create(name: string, profile = "Default Assistant"): Promise<string> {
    await this.page.getByRole("button", { name: "New agent" }).click();
    const dialog = this.page.getByRole("dialog", { name: "New agent" });
    await dialog.getByRole("radio", { name: new RegExp(profile) }).check();
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(this.page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
    await expect(this.page.locator("main header").getByText(name, { exact: true })).toBeVisible();
    return new URL(this.page.url()).pathname.split("/").pop()!;
  }

  /** New agent → Git URL or Blank → name it → lands on the new agent's page; returns its id. */
  async createFrom(source: { gitUrl: string } | { blank: true }, name: string): Promise<string> {
    await this.page.getByRole("button", { name: "New agent" }).click();
    const dialog = this.page.getByRole("dialog", { name: "New agent" });
    if ("gitUrl" in source) {
      await dialog.getByRole("radio", { name: "Git URL" }).check();
      await dialog.getByRole("textbox", { name: "Git URL" }).fill(source.gitUrl);
    } else {
      await dialog.getByRole("radio", { name: "Blank" }).check();
    }
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(this.page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
    await expect(this.page.locator("main header").getByText(name, { exact: true })).toBeVisible();
    return new URL(this.page.url()).pathname.split("/").pop()!;
  }

  /** On an agent's page: New conversation opens the composer with this agent chosen (nothing is created yet). */
  async startConversation(agentName: string) {
    await expect(this.page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
    await this.page
      .getByRole("main")
      .getByRole("link", { name: `New conversation with ${agentName}`, exact: true })
      .click();
    await expect(this.page).toHaveURL(/\/conversations\?agent=[0-9a-f-]{36}$/);
    await expect(this.page.getByRole("main").getByRole("button", { name: /^Agent: / })).toHaveAccessibleName(
      `Agent: ${agentName}. Choose another agent`,
    );
  }

  /** The agent page's file tree. */
  get files() {
    return this.page.getByRole("navigation", { name: "Agent files" });
  }

  /** The editor of the file open on the agent page. */
  editor(path: string) {
    return this.page.getByRole("textbox", { name: `Contents of ${path}`, exact: true });
  }

  async openFile(path: string) {
    await this.files.getByRole("button", { name: path.split("/").pop(), exact: true }).click();
    await expect(this.editor(path)).toBeVisible();
  }

  /** Replaces the open file's text and saves it with `message` (the default message when omitted). */
  async editAndSave(path: string, content: string, message?: string) {
    await this.openFile(path);
    await this.editor(path).fill(content);
    if (message) await this.page.getByRole("textbox", { name: "Commit message" }).fill(message);
    await this.page.getByRole("button", { name: "Save", exact: true }).click();
  }

  /** The History page of the agent open now, with its list of versions. */
  async openHistory() {
    await this.page.getByRole("main").getByRole("link", { name: "History" }).click();
    await expect(this.page).toHaveURL(/\/agents\/[0-9a-f-]{36}\/history$/);
    return this.page.getByRole("list", { name: "Versions" });
  }

  /** On an agent's page: Delete, confirmed in the dialog; lands on the agents list. */
  async delete(name: string) {
    await this.page.getByRole("main").getByRole("button", { name: "Delete agent" }).click();
    const dialog = this.page.getByRole("alertdialog", { name: `Delete ${name}?` });
    await dialog.getByRole("button", { name: "Delete agent" }).click();
    await expect(this.page).toHaveURL(/\/agents$/);
  }
}
