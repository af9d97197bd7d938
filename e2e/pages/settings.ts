import { expect, type Page } from "@playwright/test";

export type ProviderFields = {
  name?: string;
  baseUrl?: string;
  apiKey?: string;
  headers?: string;
  models?: string[];
  priority?: number;
};

/** /system/settings → LLM providers, as a person uses it: the list, and the add/edit dialog by its labels. */
export class ProvidersPage {
  constructor(private readonly page: Page) {}

  async open() {
    await this.page.goto("/system/settings#providers");
    await expect(this.page.getByRole("heading", { name: "LLM providers" })).toBeVisible();
  }

  get dialog() {
    return this.page.getByRole("dialog");
  }

  /** The card of one provider in the list. */
  row(name: string) {
    return this.page.getByRole("listitem").filter({ has: this.page.getByRole("heading", { name, exact: true }) });
  }

  async startAdding() {
    await this.page.getByRole("button", { name: "Add provider" }).first().click();
    await expect(this.dialog).toBeVisible();
  }

  async startEditing(name: string) {
    await this.page.getByRole("button", { name: `Options for ${name}` }).click();
    await this.page.getByRole("menuitem", { name: "Edit" }).click();
    await expect(this.dialog).toBeVisible();
  }

  async fill(fields: ProviderFields) {
    const d = this.dialog;
    if (fields.name !== undefined) await d.getByLabel("Name").fill(fields.name);
    if (fields.baseUrl !== undefined) await d.getByLabel("Base URL").fill(fields.baseUrl);
    if (fields.apiKey !== undefined) await d.getByLabel("API key").fill(fields.apiKey);
    if (fields.headers !== undefined) await d.getByLabel("Extra headers").fill(fields.headers);
    if (fields.priority !== undefined) await d.getByLabel("Priority").fill(String(fields.priority));
    for (const model of fields.models ?? []) {
      await d.getByLabel("Allowed models").fill(model);
      await d.getByLabel("Allowed models").press("Enter");
    }
  }

  /** Presses the dialog's submit button ("Add provider" or "Save changes"). */
  async submit() {
    await this.dialog.getByRole("button", { name: /^(Add provider|Save changes)$/ }).click();
  }

  /** The inline error under a field of the open dialog, e.g. fieldError("Extra headers"). */
  fieldError(label: string) {
    return this.dialog.getByText(new RegExp(`^(${label}|Header “.*”) `));
  }

  async fetchModels() {
    await this.dialog.getByRole("button", { name: "Fetch models" }).click();
  }

  async testConnection(name: string) {
    await this.row(name).getByRole("button", { name: "Test connection" }).click();
  }

  async delete(name: string) {
    await this.page.getByRole("button", { name: `Options for ${name}` }).click();
    await this.page.getByRole("menuitem", { name: "Delete" }).click();
    await this.page.getByRole("alertdialog").getByRole("button", { name: "Delete provider" }).click();
    await expect(this.row(name)).toHaveCount(0);
  }
}
