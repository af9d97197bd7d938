import type { Page } from "@playwright/test";

/** The setup and login forms as a person sees them: by their labels and buttons. */
export class AuthPages {
  constructor(private readonly page: Page) {}

  async completeSetup(email: string, password: string, confirmation = password) {
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password", { exact: true }).fill(password);
    await this.page.getByLabel("Confirm password").fill(confirmation);
    await this.page.getByRole("button", { name: "Create account" }).click();
  }

  async signIn(email: string, password: string) {
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password", { exact: true }).fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }

  async signOut() {
    await this.page.getByRole("button", { name: /Account menu/ }).click();
    await this.page.getByRole("menuitem", { name: "Sign out" }).click();
  }
}
