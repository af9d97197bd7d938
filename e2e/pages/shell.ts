import { expect, type Page } from "@playwright/test";
import { ChatPage } from "./chat";

/** The agent shell around every signed-in page: the sidebar's primary nav and conversation list, the main pane. */
export class Shell {
  constructor(private readonly page: Page) {}

  get main() {
    return this.page.getByRole("main");
  }

  get primaryNav() {
    return this.page.getByRole("navigation", { name: "Primary" });
  }

  get conversationList() {
    return this.page.getByRole("navigation", { name: "Conversations" });
  }

  conversationLink(title: string) {
    return this.conversationList.getByRole("link", { name: title, exact: true });
  }

  /** Switches the sidebar list between active and archived conversations. */
  async showArchived(archived: boolean) {
    const toggle = this.conversationList.getByRole("button", {
      name: archived ? "Show archived conversations" : "Show active conversations",
    });
    await toggle.click();
    await expect(
      this.conversationList.getByRole("button", {
        name: archived ? "Show active conversations" : "Show archived conversations",
      }),
    ).toHaveAttribute("aria-pressed", String(archived));
  }

  /** Rename, Archive, Restore or Delete from a row's menu in the sidebar list. */
  async conversationAction(title: string, action: "Rename" | "Archive" | "Restore" | "Delete") {
    await this.conversationList.getByRole("button", { name: `Options for ${title}` }).click();
    await this.page.getByRole("menuitem", { name: action }).click();
  }

  /** The new conversation's agent switcher, above the composer on /conversations. */
  get agentSwitcher() {
    return this.main.getByRole("button", { name: /^Agent: / });
  }

  /** On /conversations: picks the agent the first message goes to. */
  async chooseAgent(name: string) {
    await this.agentSwitcher.click();
    await this.page.getByRole("menuitem", { name, exact: true }).click();
    await expect(this.agentSwitcher).toHaveAccessibleName(`Agent: ${name}. Choose another agent`);
  }

  /**
   * /conversations → (another agent) → the first message creates the conversation, which opens; returns its id.
   */
  async startConversation(firstMessage: string, agentName?: string): Promise<string> {
    await this.page.goto("/conversations");
    if (agentName) await this.chooseAgent(agentName);
    await new ChatPage(this.page).send(firstMessage);
    await expect(this.page).toHaveURL(/\/conversations\/[0-9a-f-]{36}$/);
    return new URL(this.page.url()).pathname.split("/").pop()!;
  }
}
