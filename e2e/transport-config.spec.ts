import { expect, expectConverged, expectNothingPending, test } from "./transport";

/**
 * Configuration going wrong under the chat: no enabled provider serves the agent's models (a warning with a link
 * to fix it, a failed reply rather than an endless spinner, then Retry once fixed). Invalid provider config
 * (headers JSON → 422 inline) is covered by providers.spec.ts.
 */

test("no provider for the agent's models: a clear warning, a failed reply, a link to fix it; Retry once fixed", async ({
  conversation: { id, chat, page },
  api,
  consoleErrors,
}) => {
  test.setTimeout(120_000);
  const mock = (await api.providers()).find((p) => p.name === "Mock LLM")!;
  await api.updateProvider(mock.id, { enabled: false });
  try {
    await page.reload();
    const warning = page.getByRole("alert").filter({ hasText: "so replies will fail until one does" });
    await expect(warning).toBeVisible();
    await expect(warning).toContainText("No provider serves this agent’s models");

    await chat.send("hello without a provider");
    const failure = chat.lastReply.getByRole("alert");
    await expect(failure).toContainText("No provider serves this agent’s models.");
    await expectNothingPending(chat);

    // The warning's link leads to the providers, where the mock can be enabled again.
    await warning.getByRole("link", { name: "Fix in System settings" }).click();
    await expect(page).toHaveURL(/\/system\/settings#providers$/);
    await page.getByRole("button", { name: "Options for Mock LLM" }).click();
    await page.getByRole("menuitem", { name: "Enable" }).click();
    await expect.poll(async () => (await api.providers()).find((p) => p.id === mock.id)?.enabled).toBe(true);

    await page.goBack();
    await expect(warning).toBeHidden();
    await chat.lastReply.getByRole("alert").getByRole("button", { name: "Retry" }).click();
    await expectConverged(chat, api, id);
    expect((await chat.transcript()).map((m) => [m.role, m.text.trim(), m.state])).toEqual([
      ["user", "hello without a provider", "sent"],
      ["assistant", "Mock reply: hello without a provider", "completed"],
    ]);
    expect(consoleErrors).toEqual([]);
  } finally {
    await api.updateProvider(mock.id, { enabled: true });
  }
});
