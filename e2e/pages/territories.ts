import { expect, type Page } from "@playwright/test";

/** /system/settings → Territories, as a person uses it: the list, "Add a machine", revoking. */
export class TerritoriesPage {
  constructor(private readonly page: Page) {}

  async open() {
    await this.page.goto("/system/settings#territories");
    await expect(this.page.getByRole("heading", { name: "Territories" })).toBeVisible();
  }

  get section() {
    return this.page.locator("section#territories");
  }

  /** The card of one territory, by the marker of the local one or by name. */
  row(name: string | "This computer") {
    return this.section.getByRole("listitem").filter({ hasText: name });
  }

  get dialog() {
    return this.page.getByRole("dialog", { name: "Add a machine" });
  }

  /** Opens "Add a machine" and answers the enrollment command it shows. */
  async addMachine(): Promise<string> {
    await this.section.getByRole("button", { name: "Add a machine" }).click();
    const command = this.dialog.locator("code", { hasText: "cybros-nexus enroll" });
    await expect(command).toBeVisible();
    return (await command.textContent()) ?? "";
  }

  async revoke(name: string) {
    await this.row(name)
      .getByRole("button", { name: `Revoke ${name}` })
      .click();
    await this.page.getByRole("alertdialog").getByRole("button", { name: "Revoke" }).click();
    await expect(this.page.getByRole("alertdialog")).toBeHidden();
  }
}
