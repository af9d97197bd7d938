import { expect, test } from "./fixtures";

/** The frame around every page: where notices appear, and the debug overlay's switch. */

test("a toast appears in the bottom corner, clear of the page heading", async ({ signedIn: page, consoleErrors }) => {
  await page.goto("/system/settings");
  await expect(page.getByRole("heading", { name: "Account defaults" })).toBeVisible();
  await page.getByRole("button", { name: "Save changes" }).click();
  const toast = page.getByRole("status").filter({ hasText: "Account settings saved" });
  await expect(toast).toBeVisible();
  const box = (await toast.boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(box.y + box.height).toBeGreaterThan(viewport.height - 40);
  expect(box.x + box.width).toBeGreaterThan(viewport.width - 40);
  const heading = (await page.getByRole("heading", { name: "System settings" }).first().boundingBox())!;
  expect(box.y).toBeGreaterThan(heading.y + heading.height);
  expect(consoleErrors).toEqual([]);
});

test("the account menu's debug overlay item shows and hides the overlay without a reload", async ({
  signedIn: page,
}) => {
  await page.addInitScript(() => window.localStorage.setItem("cybros.debug", "1"));
  await page.goto("/dashboard");
  const overlay = page.getByRole("region", { name: "Debug overlay" });
  await expect(overlay).toHaveCount(0);
  const menu = page.getByRole("button", { name: /^Account menu for / }).first();
  await menu.click();
  await page.getByRole("menuitem", { name: "Show debug overlay" }).click();
  await expect(overlay).toBeVisible();
  await menu.click();
  await page.getByRole("menuitem", { name: "Hide debug overlay" }).click();
  await expect(overlay).toHaveCount(0);
});
