import { expect, OWNER, test } from "./fixtures";
import { AuthPages } from "./pages/auth";

test("a fresh instance leads to setup, then the conversations page; sign out and back in", async ({
  page,
  consoleErrors,
  freshInstance: instance,
}) => {
  const auth = new AuthPages(page);
  await page.goto(instance.url);
  await expect(page).toHaveURL(/\/setup$/);

  await auth.completeSetup(OWNER.email, "short", "different");
  await expect(page.getByText("must be at least 8 characters")).toBeVisible();
  await expect(page).toHaveURL(/\/setup$/);

  await auth.completeSetup(OWNER.email, OWNER.password);
  await expect(page).toHaveURL(/\/conversations/);

  await auth.signOut();
  await expect(page).toHaveURL(/\/login/);
  await page.goto(`${instance.url}/setup`);
  await expect(page).toHaveURL(/\/login/);

  await auth.signIn(OWNER.email, "wrong password");
  await expect(page.getByText("Email or password is incorrect")).toBeVisible();
  await auth.signIn(OWNER.email, OWNER.password);
  await expect(page).toHaveURL(/\/conversations/);
  // The failed sign-in is an expected 401; nothing else may fail.
  expect(consoleErrors.filter((e) => !/401/.test(e))).toEqual([]);
});
