import { expect, type Locator, type Page } from "@playwright/test";

/** A message as the page shows it: `text` is the bubble's text (an assistant's rendered markdown). */
export interface ShownMessage {
  role: "user" | "assistant";
  /** The server's id once known (a message still sending has none). */
  id: string | null;
  text: string;
  /** Assistant: pending, streaming, completed, errored or canceled; user: the local send status or "sent". */
  state: string;
}

/** One conversation: the transcript, the composer and the header's options menu. */
export class ChatPage {
  constructor(private readonly page: Page) {}

  async open(conversationId: string) {
    await this.page.goto(`/conversations/${conversationId}`);
    await expect(this.composer).toBeVisible();
  }

  get composer() {
    return this.page.getByRole("textbox", { name: "Message" });
  }

  get sendButton() {
    return this.page.getByRole("button", { name: "Send", exact: true });
  }

  get stopButton() {
    return this.page.getByRole("button", { name: "Stop", exact: true });
  }

  get messages() {
    return this.page.getByRole("list", { name: "Messages" });
  }

  get userMessages(): Locator {
    return this.page.locator('[data-role="user"]');
  }

  /** Assistant bubbles carry their indicator phase (idle, queued, streaming, completed, errored, canceled). */
  get replies(): Locator {
    return this.page.locator('[data-role="assistant"]');
  }

  get lastReply(): Locator {
    return this.replies.last();
  }

  /** Types the message (a first line may be a `/mock …` directive) and presses Send. */
  async send(text: string) {
    await this.composer.fill(text);
    await this.sendButton.click();
    await expect(this.composer).toHaveValue("");
  }

  /** Waits until the newest reply has settled as completed with text containing `text`. */
  /**
   * The last reply has the text and says completed, both of the same row: checked one after the other, the state
   * could match the previous reply before the new one was on screen, and the text the new one while streaming.
   */
  async expectCompletedReply(text: string | RegExp, timeout = 30_000) {
    await expect(this.lastReply.filter({ hasText: text })).toHaveAttribute("data-indicator", "completed", { timeout });
  }

  /** Nothing queued or streaming is left on screen, and the composer offers Send, not Stop. */
  async expectSettled(timeout = 30_000) {
    await expect(this.page.locator('[data-indicator="queued"], [data-indicator="streaming"]')).toHaveCount(0, {
      timeout,
    });
    await expect(this.stopButton).toBeHidden({ timeout });
  }

  /** Every message on screen, in order. */
  async transcript(): Promise<ShownMessage[]> {
    return this.page.locator('[data-role="user"], [data-role="assistant"]').evaluateAll((rows) =>
      rows.map((row) => {
        const role = row.getAttribute("data-role") as "user" | "assistant";
        const id = row.getAttribute("data-message-id");
        if (role === "user") {
          return {
            role,
            id,
            text: row.firstElementChild?.textContent ?? "",
            state: row.getAttribute("data-local") ?? "sent",
          };
        }
        const text = Array.from(row.querySelectorAll(".chat-markdown"), (el) => el.textContent ?? "").join("");
        return { role, id, text, state: row.getAttribute("data-state") ?? "" };
      }),
    );
  }

  /** A tool call's card, by its title ("Saved to memory") or the tool's name (shown inside the card). */
  toolCard(reply: Locator, titleOrName: string): Locator {
    return reply.locator("details[data-tool-call]").filter({ hasText: titleOrName });
  }

  /** The newest tool card on the page, whatever reply it sits in. */
  get latestToolCard(): Locator {
    return this.page.locator("details[data-tool-call]").last();
  }

  /** A card's command output pane (a terminal-like log). */
  outputPane(card: Locator): Locator {
    return card.getByRole("log", { name: "Output" });
  }

  /** A card's approval request: the command, where it runs, why it asks, Approve and Reject. */
  approvalPanel(card: Locator): Locator {
    return card.getByRole("region", { name: "Approval needed" });
  }

  /** The conversation header's workspace (`data-workspace` is its path). */
  get workspace(): Locator {
    return this.page.locator("main header [data-workspace]");
  }

  /** The quiet lines under a reply saying which of the agent's hooks failed. */
  hookWarnings(reply: Locator): Locator {
    return reply.locator("[data-hook-warning]");
  }

  /** The card's one line under its title: the result's summary, or "Failed: …". */
  toolSummary(card: Locator): Locator {
    return card.locator("[data-tool-summary]");
  }

  /** A fenced code block of a reply: its code, and its Copy button. */
  codeBlock(reply: Locator, index = 0) {
    const block = reply.locator(".chat-block:has(> pre)").nth(index);
    return {
      block,
      pre: block.locator("pre"),
      code: block.locator("pre code"),
      copy: block.getByRole("button", { name: /^(Copy code|Copied)$/ }),
    };
  }

  /** A remote image's placeholder (alt text and host; a click loads it through the server). */
  remoteImage(reply: Locator, alt: string): Locator {
    return reply.locator("[data-remote-image]").filter({ hasText: alt });
  }

  /** Rename, Archive, Restore or Delete from the conversation header's menu. */
  async conversationAction(action: "Rename" | "Archive" | "Restore" | "Delete") {
    await this.page.getByRole("button", { name: "Conversation options" }).click();
    await this.page.getByRole("menuitem", { name: action }).click();
  }

  /** Answers the delete confirmation. */
  async confirmDelete() {
    const dialog = this.page.getByRole("alertdialog", { name: "Delete conversation?" });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await expect(dialog).toBeHidden();
  }

  /**
   * Records, from now on, every indicator phase and text length the next assistant bubble goes through, so a
   * test can tell a reply streamed in pieces from one that appeared whole. Read it back with `phases()`.
   */
  async recordReplyPhases() {
    await this.page.evaluate(() => {
      const seen: Array<{ phase: string; length: number; id: string | null }> = [];
      const recorder = window as unknown as { __replyPhases: typeof seen; __noteReplyPhase: () => void };
      recorder.__replyPhases = seen;
      const before = document.querySelectorAll('[data-role="assistant"]').length;
      const note = () => {
        const bubbles = document.querySelectorAll('[data-role="assistant"]');
        // Only a bubble that was not there yet: the next reply.
        const last = bubbles.length > before ? bubbles[bubbles.length - 1] : null;
        if (!last) return;
        const entry = {
          phase: last.getAttribute("data-indicator") ?? "",
          length: last.textContent?.length ?? 0,
          // Which row (a reply, or a run's placeholder before its reply exists): tells a failure's story.
          id: last.getAttribute("data-message-id"),
        };
        const previous = seen[seen.length - 1];
        if (previous?.phase !== entry.phase || previous.length !== entry.length) seen.push(entry);
      };
      recorder.__noteReplyPhase = note;
      new MutationObserver(note).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
        attributeFilter: ["data-indicator"],
      });
    });
  }

  /** The phases recorded, ending with the reply's state now (a last sample, should the observer have missed it). */
  async phases(): Promise<Array<{ phase: string; length: number; id: string | null }>> {
    return this.page.evaluate(() => {
      const recorder = window as unknown as {
        __replyPhases: Array<{ phase: string; length: number; id: string | null }>;
        __noteReplyPhase: () => void;
      };
      recorder.__noteReplyPhase();
      return recorder.__replyPhases;
    });
  }
}
