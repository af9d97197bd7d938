import { expect, test, uniqueSuffix } from "./fixtures";
import { ProvidersPage } from "./pages/settings";

test("provider CRUD: invalid headers JSON is an inline error and saves nothing; fixed it saves; saved secrets stay masked and a new base URL asks for them again; edit; Fetch models fills the allowlist; delete", async ({
  signedIn: page,
  apiRequest,
  instance,
  consoleErrors,
}) => {
  const providers = new ProvidersPage(page);
  const name = `Local mock ${uniqueSuffix()}`;
  const baseUrl = `${instance.url}/mock_llm/v1`;
  const listed = async () =>
    ((await (await apiRequest.get("/api/providers")).json()).providers as { name: string }[]).map((p) => p.name);

  await providers.open();
  await providers.startAdding();
  await providers.fill({
    name,
    baseUrl,
    apiKey: "sk-e2e-0123456789",
    headers: '{"X-Title": "Cybros"',
    models: ["mock-model"],
  });
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

  // Edit: saved header values are secrets like the key, shown masked.
  const renamed = `${name} (edited)`;
  await providers.startEditing(name);
  const savedHeaders = providers.dialog.getByRole("list", { name: "Extra headers" });
  await expect(savedHeaders.getByRole("listitem")).toHaveText(["X-Title•••• (set)"]);
  await expect(providers.dialog.getByText("Cybros", { exact: true })).toHaveCount(0);

  // A new base URL asks for the key and headers again; the server refuses it without them and saves nothing.
  await providers.fill({ baseUrl: "https://elsewhere.example/v1" });
  await expect(providers.dialog.getByText(/^The base URL changed: type the key again\./)).toBeVisible();
  await expect(providers.dialog.getByLabel("API key")).toHaveAttribute("placeholder", "Key for the new base URL");
  await expect(providers.dialog.getByText(/^The base URL changed: enter the header values again/)).toBeVisible();
  const refused = page.waitForResponse((r) => r.url().includes("/api/providers/") && r.request().method() === "PATCH");
  await providers.submit();
  expect((await refused).status()).toBe(422);
  await expect(providers.fieldError("API key")).toHaveText(/^API key must be typed again for the new base URL/);
  await expect(providers.fieldError("Extra headers")).toHaveText(/^Extra headers must be typed again/);

  // Back to the saved URL: nothing to retype, the headers are kept; a new name and priority show in the list.
  await providers.fill({ baseUrl: `${baseUrl}/` });
  await expect(savedHeaders).toBeVisible();
  await providers.fill({ name: renamed, priority: 5 });
  await providers.submit();
  await expect(providers.dialog).toBeHidden();
  await expect(providers.row(renamed)).toContainText("Priority 5");
  await expect(providers.row(name)).toHaveCount(0);

  // Fetch models against this server's mock fills an empty allowlist with its chat models, not its embedding one.
  await providers.startEditing(renamed);
  await providers.dialog.getByRole("button", { name: "Remove mock-model" }).click();
  await providers.fetchModels();
  await expect(
    providers.dialog.getByText(/^Added 3 models\. Embedding models left out \(mock-embedding\)/),
  ).toBeVisible();
  for (const model of ["mock-model", "mock-model-2", "mock-model-large"]) {
    await expect(providers.dialog.getByRole("button", { name: `Remove ${model}`, exact: true })).toBeVisible();
  }
  await expect(providers.dialog.getByRole("button", { name: "Remove mock-embedding" })).toHaveCount(0);
  await providers.submit();
  await expect(providers.dialog).toBeHidden();
  await expect(providers.row(renamed)).toContainText("mock-model-large");

  await providers.delete(renamed);
  expect(await listed()).not.toContain(renamed);

  // The rejected saves are the expected failures (422s); nothing else, and never a 5xx.
  expect(consoleErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
});

test("the built-in mock reads as local with no key needed; the default-model picker offers chat models, each once", async ({
  signedIn: page,
  apiRequest,
  instance,
}) => {
  // A second provider allowing the same models: each is still offered once, under the one that serves it.
  const created = await apiRequest.post("/api/providers", {
    data: {
      name: "Second mock",
      baseUrl: `${instance.url}/mock_llm/v1`,
      modelAllowlist: ["mock-model", "mock-embedding", "mock-model-2"],
      priority: 3,
    },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  try {
    const providers = new ProvidersPage(page);
    await providers.open();
    await expect(providers.row("Mock LLM")).toContainText("Local · no key needed");
    await expect(providers.row("Mock LLM")).not.toContainText("not set");

    const picker = page.getByLabel("Default model");
    const offered = () =>
      picker
        .locator("optgroup")
        .evaluateAll((groups) =>
          groups.map((g) => [
            (g as HTMLOptGroupElement).label,
            Array.from(g.querySelectorAll("option"), (o) => o.value),
          ]),
        );
    // The mock allows mock-model and mock-embedding: the first is Second mock's (higher priority), the second is
    // not a chat model, so the mock has nothing left to offer here.
    await expect.poll(offered).toEqual([["Second mock", ["mock-model", "mock-model-2"]]]);
    await expect(
      page.getByLabel("Memory embedding model").locator("option", { hasText: "mock-embedding" }),
    ).toHaveCount(1);
  } finally {
    await apiRequest.delete(`/api/providers/${id}`);
  }
});

test("the provider form ticks which allowed models accept images; the mock's mock-model does", async ({
  signedIn: page,
  apiRequest,
}) => {
  const mockProvider = async () =>
    (
      (await (await apiRequest.get("/api/providers")).json()).providers as {
        id: string;
        name: string;
        imageModels: string[];
      }[]
    ).find((p) => p.name === "Mock LLM")!;
  const { id } = await mockProvider();
  try {
    const providers = new ProvidersPage(page);
    await providers.open();
    await providers.startEditing("Mock LLM");
    const images = providers.dialog.getByRole("group", { name: "Accepts images" });
    // Embedding models take no prompts: no box for them.
    await expect(images.getByRole("checkbox")).toHaveCount(1);
    const box = images.getByRole("checkbox", { name: "mock-model" });
    await expect(box).toBeChecked();
    await box.uncheck();
    await providers.submit();
    await expect(providers.dialog).toBeHidden();
    expect((await mockProvider()).imageModels).toEqual([]);

    await providers.startEditing("Mock LLM");
    await expect(box).not.toBeChecked();
    await box.check();
    await providers.submit();
    await expect(providers.dialog).toBeHidden();
    expect((await mockProvider()).imageModels).toEqual(["mock-model"]);
  } finally {
    await apiRequest.patch(`/api/providers/${id}`, { data: { imageModels: ["mock-model"] } });
  }
});
