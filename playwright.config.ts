import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  globalSetup: "./e2e/global-setup.ts",
  fullyParallel: false,
  workers: process.env.CI ? 2 : 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"], ["json"]] : "list",
  projects: [
    { name: "browser", testIgnore: "**/transport-long.spec.ts" },
    // Measures the page's responsiveness (long tasks), so it runs alone, after the rest: a test in the other
    // worker competing for the same two cores stretched 100 ms tasks past 200 ms.
    { name: "responsiveness", testMatch: "**/transport-long.spec.ts", dependencies: ["browser"] },
  ],
  use: {
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
    trace: "off",
    screenshot: "only-on-failure",
  },
});
