import { expect, test } from "./fixtures";
import { ProvidersPage } from "./pages/settings";

test("provider CRUD: invalid headers JSON is an inline error and saves nothing; fixed it saves; edit; Fetch models fills the allowlist; delete", async ({
  signedIn: page,
  apiRequest,
  instance,
  consoleErrors,
}) => {
  const providers = new ProvidersPage(page);
  const name = `Local mock ${test.info().workerIndex}-${Date.now() % 100_000}`;
  const baseUrl = `${instance.url}/mock_llm/v1`;
  const listed = async () =>
    ((await (await apiRequest.get("/api/providers")).json()).providers as { name: string }[]).map((p) => p.name);

  await providers.open();
  await providers.startAdding();
  await providers.fill({ name, baseUrl, headers: '{"X-Title": "Cybros"', models: ["mock-model"] });
  const rejected = page.waitForResponse((r) => r.url().endsWith("/api/providers") && r.request().method() === "POST");
  await providers.submit();
  expect((await rejected).status()).toBe(422);
  await expect(providers.fieldError("Extra headers")).toHaveText("Extra headers is not valid JSON");
  await expect(providers.dialog.getByLabel("Extra headers")).toHaveAttribute("aria-invalid", "true");
  await expect(providers.dialog).toBeVisible();
  expect(await listed()).not.toContain(name);

  // Typing in the field clears its error; the fixed JSON saves.
  await providers.fill({ headers: '{"X-Title": "Cybros"}' });
  await expect(providers.fieldError("Extra headers")).toHaveCount(0);
  await providers.submit();
  await expect(providers.dialog).toBeHidden();
  const row = providers.row(name);
  await expect(row).toBeVisible();
  await expect(row).toContainText(baseUrl);
  await expect(row).toContainText("mock-model");

  // Edit: a new name and priority show in the list; the headers were kept.
  const renamed = `${name} (edited)`;
  await providers.startEditing(name);
  await expect(providers.dialog.getByLabel("Extra headers")).toHaveValue(/"X-Title": "Cybros"/);
  await providers.fill({ name: renamed, priority: 5 });
  await providers.submit();
  await expect(providers.dialog).toBeHidden();
  await expect(providers.row(renamed)).toContainText("Priority 5");
  await expect(providers.row(name)).toHaveCount(0);

  // Fetch models against this server's mock fills an empty allowlist with what it lists.
  await providers.startEditing(renamed);
  await providers.dialog.getByRole("button", { name: "Remove mock-model" }).click();
  await providers.fetchModels();
  await expect(providers.dialog.getByText("Added 4 models.")).toBeVisible();
  for (const model of ["mock-model", "mock-model-2", "mock-model-large", "mock-embedding"]) {
    await expect(providers.dialog.getByRole("button", { name: `Remove ${model}`, exact: true })).toBeVisible();
  }
  await providers.submit();
  await expect(providers.dialog).toBeHidden();
  await expect(providers.row(renamed)).toContainText("mock-model-large");

  await providers.delete(renamed);
  expect(await listed()).not.toContain(renamed);

  // The rejected save is the one expected failure (a 422); nothing else, and never a 5xx.
  expect(consoleErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
});
