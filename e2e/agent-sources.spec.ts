import fs from "node:fs";
import path from "node:path";
import { Api } from "./api";
import { expect, test, uniqueSuffix } from "./fixtures";
import { AgentsPage } from "./pages/agents";
import { ChatPage } from "./pages/chat";
import { bareRepository } from "./repos";

/**
 * Agents from other sources than a bundled profile. A blank agent and a plain file:// clone chatting is
 * agents-create.spec.ts; here, a program shared through Git brings its own scripts: a custom tool and a
 * before_inference hook committed in the repository run once the agent is cloned, with no edit after.
 */

const repoRoot = path.resolve(import.meta.dirname, "..");

test("an agent cloned from a file:// Git URL runs the custom tool and the hook it brings", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const api = new Api(page, instance.url);
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  await api.waitForLocalNexus();
  const repo = bareRepository((work) => {
    fs.cpSync(path.join(repoRoot, "agents/default-assistant"), work, { recursive: true });
    const manifest = path.join(work, "agent.yml");
    fs.writeFileSync(
      manifest,
      `${fs
        .readFileSync(manifest, "utf8")
        .replace("tools:\n", "tools:\n  custom: [coin_flip]\n")}\nhooks:\n  before_inference: hooks/weather.sh\n`,
    );
    fs.mkdirSync(path.join(work, "tools"));
    fs.writeFileSync(
      path.join(work, "tools/coin_flip.yml"),
      "description: Flip a coin.\nparameters:\n  type: object\n  properties: {}\n  additionalProperties: false\n",
    );
    // Executable in the repository (git keeps the bit), so it runs as a program.
    fs.writeFileSync(
      path.join(work, "tools/coin_flip.sh"),
      '#!/bin/sh\necho \'{"side": "heads", "summary": "Heads"}\'\n',
      {
        mode: 0o755,
      },
    );
    fs.mkdirSync(path.join(work, "hooks"));
    fs.writeFileSync(
      path.join(work, "hooks/weather.sh"),
      '#!/bin/sh\ncat >/dev/null\necho \'{"context": "Weather where the user is: drizzle"}\'\n',
      { mode: 0o755 },
    );
  });
  try {
    const name = `Shared flipper ${uniqueSuffix()}`;
    await agents.open();
    await agents.createFrom({ gitUrl: repo.url }, name);
    await expect(page.locator("main header")).toContainText("Created from agent");
    await agents.startConversation(name);

    await chat.send("/mock tool_calls\ncoin_flip {}");
    await chat.expectCompletedReply('Tool results: coin_flip: {"side": "heads", "summary": "Heads"}');
    const card = chat.toolCard(chat.replies, "Coin flip");
    await expect(card).toHaveAttribute("data-tool-state", "completed");
    await expect(chat.toolSummary(card)).toHaveText("Heads");

    await chat.send("/mock system\nWhat is the weather?");
    await chat.expectCompletedReply("Weather where the user is: drizzle");
  } finally {
    repo.remove();
  }
  expect(consoleErrors).toEqual([]);
});
