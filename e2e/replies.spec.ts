import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "@playwright/test";
import { Api } from "./api";
import { expect, test } from "./fixtures";
import { ChatPage } from "./pages/chat";

/**
 * How a reply reads: highlighted code with Copy and scrolling long lines, tool cards in words, and remote images
 * that load only when clicked, through the server. One conversation per test on the worker's instance.
 */

async function openConversation(page: Page, baseUrl: string) {
  const api = new Api(page, baseUrl);
  const id = await api.createConversation();
  const chat = new ChatPage(page);
  await chat.open(id);
  return { api, chat, id };
}

test("a code block is highlighted, copies with one click, and scrolls a long line instead of cutting it", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  const { chat } = await openConversation(page, instance.url);
  const longLine = `  const message = "${"a long line that goes on ".repeat(12)}";`;
  const code = ["export function greet(name: string): string {", longLine, '  return "Hello, " + name;', "}"].join(
    "\n",
  );
  await chat.send(`/mock text\nHere it is:\n\n\`\`\`ts\n${code}\n\`\`\`\n`);
  await chat.expectCompletedReply("Here it is:");
  const block = chat.codeBlock(chat.lastReply);
  await expect(block.code.locator(".hljs-keyword").first()).toHaveText("export");
  await expect(block.code).toHaveText(code);

  // The long line scrolls inside the block; the page itself does not widen.
  const widths = await block.pre.evaluate((pre) => ({
    scroll: pre.scrollWidth,
    client: pre.clientWidth,
    overflow: getComputedStyle(pre).overflowX,
    page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  }));
  expect(widths.scroll).toBeGreaterThan(widths.client);
  expect(widths.overflow).toBe("auto");
  expect(widths.page).toBe(0);

  await block.copy.click();
  await expect(block.copy).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
  expect(consoleErrors).toEqual([]);
});

test("tool cards say in words what each call did; a failure says what failed without opening the card", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  const { chat } = await openConversation(page, instance.url);
  await chat.send(
    '/mock tool_calls\nmemory_store {"content":"The user drinks green tea"}\nmemory_forget {"id":"no-such-memory"}',
  );
  await chat.expectCompletedReply("Tool results: memory_store:");
  // The calls and the answer after them are one reply: the cards sit in its first bubble.
  const saved = chat.toolCard(chat.replies, "Saved to memory");
  await expect(saved).toHaveAttribute("data-tool-state", "completed");
  await expect(chat.toolSummary(saved)).toHaveText("The user drinks green tea");
  const failed = chat.toolCard(chat.replies, "Forgot a memory");
  await expect(failed).toHaveAttribute("data-tool-state", "error");
  await expect(chat.toolSummary(failed)).toBeVisible();
  await expect(chat.toolSummary(failed)).toHaveText(/^Failed: No memory with id no-such-memory/);
  // The raw call stays one click away.
  await expect(failed.getByText("Arguments")).toBeHidden();
  await failed.locator("summary").click();
  await expect(failed.locator("pre").first()).toContainText('"id": "no-such-memory"');
  await expect(failed.getByText("memory_forget", { exact: true })).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test("a remote image waits for a click and then loads through the server, never from its host directly", async ({
  signedIn: page,
  instance,
  consoleErrors,
}) => {
  // The "remote" host: a local server. The outbound guard refuses loopback unless allowlisted, as an admin would.
  const pixel = Buffer.from("R0lGODlhAQABAIAAAAUEBAAAACwAAAAAAQABAAACAkQBADs=", "base64");
  const hits: string[] = [];
  const remote = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    res.writeHead(200, { "content-type": "image/gif" }).end(pixel);
  });
  await new Promise<void>((resolve) => remote.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(remote.address() as AddressInfo).port}`;
  try {
    const { api, chat } = await openConversation(page, instance.url);
    await api.call("PATCH", "/api/account/settings", { webFetchAllowlist: [host] });
    const direct: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes(host)) direct.push(request.url());
    });

    await chat.send(`/mock text\nThe chart: ![Sales chart](http://${host}/chart.gif?data=secret)`);
    await chat.expectCompletedReply("The chart:");
    const placeholder = chat.remoteImage(chat.lastReply, "Sales chart");
    await expect(placeholder).toContainText(host);
    await expect(chat.lastReply.locator("img")).toHaveCount(0);
    expect(hits).toEqual([]);

    await placeholder.click();
    const image = chat.lastReply.getByRole("img", { name: "Sales chart" });
    await expect(image).toHaveAttribute("src", /^\/api\/remote-image\?url=/);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
    expect(hits).toEqual(["/chart.gif?data=secret"]);
    expect(direct).toEqual([]);
    // Clicking the placeholder loads the image; it does not open the reply's details.
    await expect(page.getByRole("heading", { name: "Reply details" })).toHaveCount(0);
    expect(consoleErrors).toEqual([]);
  } finally {
    await new Promise((resolve) => remote.close(resolve));
  }
});
