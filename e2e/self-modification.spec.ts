import { Api } from "./api";
import { expect, test, uniqueSuffix } from "./fixtures";
import { AgentsPage } from "./pages/agents";
import { ChatPage } from "./pages/chat";

/**
 * An agent changing its own files with the agent_* tools, the model scripted by mock scenarios: the change is
 * committed, health-checked, reaches the next turn's prompt, shows in History with its diff, and can be reverted;
 * a change that breaks the agent is reverted by the health check on its own. Blank agents: bundled ones are
 * read-only, and a blank agent's agent.yml allows the agent_* tools.
 *
 * "What the model was told" is read from the chat itself: `/mock system` answers with the request's system text.
 */

const ORIGINAL_CHARACTER = "Friendly, direct and honest.";
const CONCISE = "Keep every answer to one short sentence.";

test("asked to be more concise, it edits SOUL.md and commits; the next turn uses it; History shows it; Revert undoes it", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const api = new Api(page, instance.url);
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  const suffix = uniqueSuffix();
  const name = `Self editor ${suffix}`;
  await agents.open();
  const agentId = await agents.createFrom({ blank: true }, name);
  const originalSoul = await api.agentFile(agentId, "SOUL.md");
  expect(originalSoul).toContain(ORIGINAL_CHARACTER);

  const scenario = `concise-${suffix}`;
  await api.defineScenario(scenario, [
    {
      reply: "tool_calls",
      calls: [
        {
          name: "agent_edit_self",
          arguments: {
            path: "SOUL.md",
            old_string: ORIGINAL_CHARACTER,
            new_string: `${ORIGINAL_CHARACTER} ${CONCISE}`,
          },
        },
        { name: "agent_commit", arguments: { message: "Be more concise, as asked" } },
      ],
    },
    { reply: "text", text: "Done: short answers from now on." },
  ]);

  await agents.startConversation(name);
  await chat.send("/mock system\nWhat were you told?");
  await chat.expectCompletedReply(ORIGINAL_CHARACTER);
  await expect(chat.lastReply).not.toContainText(CONCISE);

  // The turn that changes it: the edit and the commit (health-checked) as two cards, then the answer.
  await chat.send(`/mock scenario name=${scenario}\nBe more concise from now on.`);
  await chat.expectCompletedReply("Done: short answers from now on.");
  const edited = chat.toolCard(chat.replies, "Edited its own SOUL.md");
  await expect(edited).toHaveAttribute("data-tool-state", "completed");
  const committed = chat.toolCard(chat.replies, "Committed its own changes");
  await expect(committed).toHaveAttribute("data-tool-state", "completed");
  await expect(chat.toolSummary(committed)).toHaveText(/^Committed [0-9a-f]{7}$/);
  await committed.locator("summary").click();
  await expect(committed).toContainText("Health check passed");

  const [change, ...older] = await api.agentHistory(agentId);
  expect(change).toMatchObject({ subject: "Be more concise, as asked", author: "agent" });
  expect(older.map((commit) => commit.subject)).toEqual([`Create ${name} as a blank agent`]);
  expect(await api.agentFile(agentId, "SOUL.md")).toContain(CONCISE);

  // The next turn's prompt carries the change, and its details name the version it ran with.
  await chat.send("/mock system\nAnd now?");
  await chat.expectCompletedReply(CONCISE);
  const conversationUrl = page.url();
  await page.getByRole("button", { name: "Details" }).last().click();
  const version = page.getByRole("link", { name: change!.sha.slice(0, 10), exact: true });
  await expect(version).toBeVisible();

  // History: the agent's commit, its diff; Revert makes a new commit that restores the file.
  await version.click();
  await expect(page).toHaveURL(new RegExp(`/agents/${agentId}/history/${change!.sha}$`));
  const versions = page.getByRole("list", { name: "Versions" });
  await expect(versions.locator('[aria-current="true"]')).toContainText("Be more concise, as asked");
  await expect(versions.locator('[aria-current="true"]')).toContainText("Agent");
  const diff = page.getByRole("region", { name: "SOUL.md" });
  await expect(diff).toContainText(`-${ORIGINAL_CHARACTER}`);
  await expect(diff).toContainText(`+${ORIGINAL_CHARACTER} ${CONCISE}`);
  await page.getByRole("button", { name: "Revert" }).click();
  await expect(versions.getByRole("listitem").first()).toContainText('Revert "Be more concise, as asked"');
  expect(await api.agentFile(agentId, "SOUL.md")).toBe(originalSoul);

  // The turn after the revert is told the old character again.
  await page.goto(conversationUrl);
  await chat.send("/mock system\nAnd after the revert?");
  await chat.expectCompletedReply(ORIGINAL_CHARACTER);
  await expect(chat.lastReply).not.toContainText(CONCISE);
  expect(consoleErrors).toEqual([]);
});

test("a self-modification that breaks agent.yml is reverted by the health check, and the chat says so", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const api = new Api(page, instance.url);
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  const suffix = uniqueSuffix();
  const name = `Self breaker ${suffix}`;
  await agents.open();
  const agentId = await agents.createFrom({ blank: true }, name);
  const manifest = await api.agentFile(agentId, "agent.yml");

  const scenario = `break-${suffix}`;
  await api.defineScenario(scenario, [
    {
      reply: "tool_calls",
      calls: [
        { name: "agent_write_self", arguments: { path: "agent.yml", content: "name: Broken\nmodel:\n  prefer: 3\n" } },
        { name: "agent_commit", arguments: { message: "Try a new model setting" } },
      ],
    },
    { reply: "text", text: "That change broke me, so it was undone." },
  ]);

  await agents.startConversation(name);
  await chat.send(`/mock scenario name=${scenario}\nUse a different model setting.`);
  await chat.expectCompletedReply("That change broke me, so it was undone.");
  await expect(chat.toolCard(chat.replies, "Wrote its own agent.yml")).toHaveAttribute("data-tool-state", "completed");
  const committed = chat.toolCard(chat.replies, "Committed its own changes");
  await expect(committed).toHaveAttribute("data-tool-state", "error");
  await expect(chat.toolSummary(committed)).toHaveText(/^Failed: Reverted [0-9a-f]{7}: health check failed$/);
  await committed.locator("summary").click();
  await expect(committed).toContainText(
    "The health check then failed (load): agent.yml: model.prefer: must be a list of strings",
  );
  await expect(committed).toContainText(/The change was reverted automatically by commit [0-9a-f]{7}/);

  // The folder is as before, and History tells the story: the agent's commit, then the automatic revert.
  expect(await api.agentFile(agentId, "agent.yml")).toBe(manifest);
  const [revert, change] = await api.agentHistory(agentId);
  expect(change).toMatchObject({ subject: "Try a new model setting", author: "agent" });
  expect(revert).toMatchObject({ subject: 'Revert "Try a new model setting"', author: "revert" });
  expect((await api.agent(agentId)).loadError).toBeNull();

  // And it still chats.
  await chat.send("Still there?");
  await chat.expectCompletedReply("Mock reply: Still there?");
  expect(consoleErrors).toEqual([]);
});
