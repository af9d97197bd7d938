import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Page } from "@playwright/test";
import { Api } from "./api";
import { collectErrors, expect, OWNER, test } from "./fixtures";
import { Instance } from "./instance";
import { ChatPage } from "./pages/chat";

/**
 * The mac-assistant against a Mac that is not one: a real `cybros-nexus` enrolled as a territory reporting
 * darwin-arm64, with stand-ins for osascript, screencapture, open and shortcuts first on its PATH. The mock LLM
 * scripts the model: it opens a link, runs AppleScript and takes a screenshot, which the chat shows as an image
 * served from the server's artifacts. On an instance of its own, so no other spec sees the Mac.
 */

const nexusBin = path.join(import.meta.dirname, "../node_modules/.bin/cybros-nexus");
const SIZE = { width: 320, height: 200 };

/** A PNG of a few coloured bands, big enough to see in a screenshot of the page. */
function samplePng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const bands = [
    [37, 99, 235],
    [22, 163, 74],
    [234, 179, 8],
    [220, 38, 38],
  ];
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const [r, g, b] = bands[Math.floor((y / height) * bands.length)]!;
    for (let x = 0; x < width; x++) rows.set([r!, g!, b!], y * (width * 3 + 1) + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Stand-ins for the macOS commands: each logs its arguments (one per line, then a blank line) and answers. */
function writeStubs(dir: string, log: string, png: string): void {
  const record = `{ basename "$0"; printf '%s\\n' "$@"; echo; } >> '${log}'`;
  const stubs: Record<string, string> = {
    osascript: `${record}\necho "osascript ran: $2"`,
    screencapture: `${record}\nfor last in "$@"; do :; done\ncp '${png}' "$last"`,
    shortcuts: record,
    open: record,
  };
  for (const [name, body] of Object.entries(stubs)) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
}

/** Saves the page at a phone, a tablet and a desktop size when SHOTS_DIR names a folder (for people to look at). */
async function shoot(page: Page, name: string) {
  const dir = process.env.SHOTS_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  for (const [width, height] of [
    [390, 844],
    [820, 1180],
    [1440, 900],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.locator("[data-artifact-image]").scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(dir, `${name}-${width}x${height}.png`) });
  }
}

test("mac-assistant on a stub Mac: opens a link, runs AppleScript, and the screenshot shows in the chat", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-mac-e2e-"));
  const stubs = path.join(dir, "bin");
  const callLog = path.join(dir, "calls.log");
  const png = path.join(dir, "sample.png");
  fs.mkdirSync(stubs);
  fs.writeFileSync(png, samplePng(SIZE.width, SIZE.height));
  writeStubs(stubs, callLog, png);
  const instance = await new Instance().start();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  let nexus: ChildProcess | undefined;
  try {
    const page = await context.newPage();
    const consoleErrors = collectErrors(page);
    const api = new Api(page, instance.url);
    await api.call("POST", "/api/setup", { ...OWNER, passwordConfirmation: OWNER.password }, [201]);

    // The "Mac": enrolled with a one-time token, as Territories → Add a machine offers, then running.
    const { token } = await api.call<{ token: string }>("POST", "/api/territories/enrollment-tokens");
    const mac = { ...process.env, CYBROS_NEXUS_PLATFORM: "darwin-arm64" };
    const nexusDir = path.join(dir, "nexus");
    await promisify(execFile)(
      nexusBin,
      ["enroll", "--server", instance.url, "--token", token, "--name", "Test Mac", "--dir", nexusDir],
      { env: mac },
    );
    nexus = spawn(nexusBin, ["run", "--dir", nexusDir], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...mac, PATH: `${stubs}:${process.env.PATH}` },
    });
    await expect
      .poll(async () => {
        const { territories } = await api.call<{ territories: { name: string; platform: string; status: string }[] }>(
          "GET",
          "/api/territories",
        );
        return territories.find((t) => t.name === "Test Mac");
      })
      .toMatchObject({ platform: "darwin-arm64", status: "online" });

    const { agents } = await api.call<{ agents: { id: string; profileSource: string }[] }>("GET", "/api/agents");
    const assistant = agents.find((agent) => agent.profileSource === "bundled:mac-assistant")!;
    const { id } = await api.call<{ id: string }>("POST", "/api/conversations", { agentProgramId: assistant.id });
    const scenario = `mac-${randomUUID()}`;
    const call = (name: string, args: Record<string, unknown>) => ({
      reply: "tool_calls",
      calls: [{ name, arguments: args }],
    });
    await api.defineScenario(scenario, [
      call("open_url", { url: "https://example.com/docs" }),
      call("run_applescript", { script: 'tell application "Finder" to get name of front window' }),
      call("take_screenshot", {}),
      { reply: "text", text: "Opened the docs and took a screenshot: it is above." },
    ]);

    const chat = new ChatPage(page);
    await page.goto(`${instance.url}/conversations/${id}`);
    await expect(chat.composer).toBeVisible();
    await chat.send(`/mock scenario name=${scenario}\nOpen the docs, check Finder, and show me the screen.`);
    await chat.expectCompletedReply("took a screenshot", 60_000);

    const cards = chat.messages.locator("details[data-tool-call]");
    await expect(cards.locator("[data-tool-title]")).toHaveText([
      "Opened https://example.com/docs on the Mac",
      "Ran AppleScript on the Mac",
      "Took a screenshot",
    ]);
    await expect(cards.locator("[data-tool-summary]")).toHaveText([
      "Opened",
      'osascript ran: tell application "Finder" to get name of front window',
      /^screenshot\.png, \d+ KB$/,
    ]);
    for (const card of await cards.all()) await expect(card).toHaveAttribute("data-tool-state", "completed");

    // What ran on the "Mac", word for word.
    const ran = fs
      .readFileSync(callLog, "utf8")
      .split("\n\n")
      .filter(Boolean)
      .map((entry) => entry.split("\n"));
    expect(ran.map((argv) => argv[0])).toEqual(["open", "osascript", "screencapture"]);
    expect(ran[0]).toEqual(["open", "https://example.com/docs"]);
    expect(ran[1]).toEqual(["osascript", "-e", 'tell application "Finder" to get name of front window']);

    // The screenshot, loaded from the server: the picture the stub wrote, at its own size.
    const shot = cards.nth(2);
    await shot.locator("summary").click();
    const image = shot.getByRole("img", { name: /screenshot\.png/ });
    await expect(image).toBeVisible();
    await expect
      .poll(() => image.evaluate((img: HTMLImageElement) => [img.complete, img.naturalWidth, img.naturalHeight]))
      .toEqual([true, SIZE.width, SIZE.height]);
    const src = await image.getAttribute("src");
    expect(src).toMatch(/^\/api\/artifacts\/[\w-]+$/);
    const served = await page.context().request.get(`${instance.url}${src}`);
    expect(served.headers()["content-type"]).toBe("image/png");
    expect((await served.body()).equals(fs.readFileSync(png))).toBe(true);

    // A click opens it full size in a new tab.
    const [tab] = await Promise.all([page.waitForEvent("popup"), image.click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(`${instance.url}${src}`);
    await tab.close();

    await shoot(page, "screenshot-card");
    expect(consoleErrors).toEqual([]);
  } finally {
    if (nexus && nexus.exitCode === null) {
      const exited = new Promise((resolve) => nexus!.once("exit", resolve));
      nexus.kill("SIGTERM");
      await exited;
    }
    await context.close();
    await instance.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
