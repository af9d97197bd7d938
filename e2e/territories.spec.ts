import { expect, test } from "./fixtures";
import { TerritoriesPage } from "./pages/territories";

test("territories: this computer is online; adding a machine shows a one-time command that enrolls it; revoke asks first", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: instance.url });
  const territories = new TerritoriesPage(page);
  await territories.open();

  // The server's own Nexus (CYBROS_LOCAL_NEXUS defaults to on) enrolled itself and heartbeats.
  const local = territories.row("This computer");
  await expect(local).toHaveCount(1);
  await expect(local).toContainText("Online");
  await expect(local).toContainText("host");
  await expect(local).toContainText("just now");
  await expect(local.getByRole("button", { name: /^Revoke/ })).toHaveCount(0);

  const command = await territories.addMachine();
  const [, server, token] = /^npx cybros-nexus enroll --server (\S+) --token (cye_[\w-]+)$/.exec(command) ?? [];
  expect(server).toBe(instance.url);
  await expect(territories.dialog).toContainText("The token works once, until");
  await territories.dialog.getByRole("button", { name: "Copy the enroll command" }).click();
  await expect(territories.dialog.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(command);

  // The machine runs the command (here: its HTTP call); once it has, the list shows it, waiting for its Nexus.
  const enrolled = await page.request.post(`${instance.url}/conduits/v1/territories/enroll`, {
    data: { enroll_token: token, name: "build box", platform: "linux-arm64" },
  });
  expect(enrolled.status()).toBe(201);
  await territories.dialog.getByRole("button", { name: "Done" }).click();
  const machine = territories.row("build box");
  await expect(machine).toContainText("Pending");
  await expect(machine).toContainText("linux-arm64");
  await expect(machine).toContainText("never");

  // Revoke asks first; Cancel keeps it.
  await machine.getByRole("button", { name: "Revoke build box" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Cancel" }).click();
  await expect(machine).toContainText("Pending");
  await territories.revoke("build box");
  await expect(machine).toContainText("Revoked");
  await expect(machine.getByRole("button", { name: /^Revoke/ })).toHaveCount(0);
  await expect(local).toContainText("Online");
  expect(consoleErrors).toEqual([]);
});
