import fs from "node:fs";
import path from "node:path";
import type { Locator } from "@playwright/test";
import { Api } from "./api";
import { expect, test, uniqueSuffix } from "./fixtures";
import { AgentsPage } from "./pages/agents";
import { ChatPage } from "./pages/chat";

/**
 * An agent's own tool (tools/roll_dice.yml + tools/roll_dice.sh), offered to the model beside the built-ins and
 * run by the server's own Nexus in the agent's folder: its JSON answer shows in the chat's tool card, and
 * arguments that do not fit its schema are refused before the script runs (the script leaves a marker file each
 * time it runs; the test runs on the server's machine, so it can look).
 */

const ROLL_DICE_YML = `description: Roll a die with the given number of sides.
parameters:
  type: object
  properties:
    sides:
      type: integer
      minimum: 2
      maximum: 1000
  required: [sides]
  additionalProperties: false
`;

// No executable bit (saved through the API): the #! line says how to run it.
const ROLL_DICE_SH = `#!/bin/sh
args=$(cat)
touch .roll_dice-ran
sides=$(printf '%s' "$args" | sed 's/.*"sides":[[:space:]]*\\([0-9][0-9]*\\).*/\\1/')
value=$(( $$ % sides + 1 ))
printf '{"sides": %s, "value": %s, "summary": "Rolled %s of %s"}\\n' "$sides" "$value" "$value" "$sides"
`;

/** Opens a tool card unless it is open already (a card whose script printed opened itself while it ran). */
async function expand(card: Locator) {
  if (!(await card.evaluate((details) => (details as HTMLDetailsElement).open))) {
    await card.locator("summary").click();
  }
  await expect(card).toHaveJSProperty("open", true);
}

/** A card's labelled block: Arguments, Result or Error. */
function payload(card: Locator, label: string): Locator {
  return card.locator(`div:has(> div:text-is("${label}")) > pre`);
}

test("roll_dice answers JSON the tool card shows; bad arguments are refused before the script runs", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const api = new Api(page, instance.url);
  const agents = new AgentsPage(page);
  const chat = new ChatPage(page);
  await api.waitForLocalNexus();
  const name = `Dicer ${uniqueSuffix()}`;
  await agents.open();
  const agentId = await agents.createFrom({ blank: true }, name);
  await api.saveAgentFile(agentId, "tools/roll_dice.yml", ROLL_DICE_YML, "Describe roll_dice");
  await api.saveAgentFile(agentId, "tools/roll_dice.sh", ROLL_DICE_SH, "Add roll_dice");
  const manifest = await api.agentFile(agentId, "agent.yml");
  expect(manifest).toContain("tools:\n");
  await api.saveAgentFile(agentId, "agent.yml", manifest.replace("tools:\n", "tools:\n  custom: [roll_dice]\n"));
  const marker = path.join((await api.agent(agentId)).localPath, ".roll_dice-ran");

  await page.reload();
  await agents.startConversation(name);

  // A string where the schema wants an integer: refused by the server, the script never starts.
  await chat.send('/mock tool_calls\nroll_dice {"sides": "six"}');
  await chat.expectCompletedReply("Tool results: roll_dice:");
  const refused = chat.toolCard(chat.replies, "Roll dice").last();
  await expect(refused).toHaveAttribute("data-tool-state", "error");
  await expect(chat.toolSummary(refused)).toHaveText(/^Failed: Invalid arguments: sides: /);
  await expand(refused);
  await expect(payload(refused, "Arguments")).toContainText('"sides": "six"');
  await expect(payload(refused, "Error")).toHaveText(/^Invalid arguments: sides: /);
  expect(fs.existsSync(marker)).toBe(false);

  // Good arguments: the script runs in the agent's folder and its JSON is the card's result.
  await chat.send('/mock tool_calls\nroll_dice {"sides": 20}');
  await chat.expectCompletedReply(/Tool results: roll_dice: \{"sides": 20, "value": \d+/);
  const rolled = chat.toolCard(chat.replies, "Roll dice").last();
  await expect(rolled).toHaveAttribute("data-tool-state", "completed");
  await expect(chat.toolSummary(rolled)).toHaveText(/^Rolled \d+ of 20$/);
  await expand(rolled);
  const result = payload(rolled, "Result");
  await expect(result).toBeVisible();
  await expect(result).toContainText('"sides": 20');
  const shown = JSON.parse((await result.textContent())!);
  expect(shown).toEqual({ sides: 20, value: expect.any(Number), summary: `Rolled ${shown.value} of 20` });
  expect(shown.value).toBeGreaterThanOrEqual(1);
  expect(shown.value).toBeLessThanOrEqual(20);
  expect(fs.existsSync(marker)).toBe(true);
  expect(consoleErrors).toEqual([]);
});
