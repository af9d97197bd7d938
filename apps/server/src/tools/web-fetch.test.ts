import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount, updateSettings } from "../accounts/index.js";
import { startSignedIn, type TestServer } from "../testing/harness.js";
import { type LocalHttpServer, startLocalHttp } from "../testing/local-http.js";
import { runToolHere, toolContextFor } from "../testing/tool-context.js";
import { fetchReadable } from "../web-fetch/index.js";
import { pageNotes, webFetchTool } from "./web-fetch.js";

const ARTICLE = `<!doctype html><html><head><title>Release notes</title>
<style>body { color: red }</style><script>window.secret = "tracking";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/pricing">Pricing menu</a></nav>
<main><article>
<h1>Version 2.0</h1>
<p>This release brings a <strong>faster</strong> engine and a <a href="/docs/upgrade">migration guide</a>.
${"It was a long road with many contributors and much testing along the way. ".repeat(6)}</p>
<h2>Changes</h2>
<ul><li>New parser</li><li>Smaller bundle</li></ul>
<pre><code class="language-ts">const engine = createEngine({ fast: true });</code></pre>
<table><thead><tr><th>Metric</th><th>1.0</th><th>2.0</th></tr></thead>
<tbody><tr><td>Startup</td><td>120 ms</td><td>40 ms</td></tr></tbody></table>
</article></main>
<footer>Copyright footer text</footer>
</body></html>`;

let server: TestServer;
let site: LocalHttpServer;
let outsider: LocalHttpServer;

beforeAll(async () => {
  ({ server } = await startSignedIn());
  site = await startLocalHttp((req, res) => {
    const path = new URL(req.url!, "http://x").pathname;
    if (path === "/article") return res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(ARTICLE);
    if (path === "/data.json") return res.writeHead(200, { "content-type": "application/json" }).end('{"a":[1,2]}');
    if (path === "/notes.txt") return res.writeHead(200, { "content-type": "text/plain" }).end("line one\nline two");
    if (path === "/nul.html") {
      const page = "<html><head><title>Null\u0000 title</title></head><body><p>before\u0000after</p></body></html>";
      return res.writeHead(200, { "content-type": "text/html" }).end(page);
    }
    if (path === "/long.txt") return res.writeHead(200, { "content-type": "text/plain" }).end("y".repeat(5_000));
    if (path === "/huge.txt") return res.writeHead(200, { "content-type": "text/plain" }).end("z".repeat(3_000_000));
    if (path === "/image.png") return res.writeHead(200, { "content-type": "image/png" }).end(Buffer.from([137, 80]));
    if (path === "/moved") return res.writeHead(301, { location: "/article" }).end();
    if (path === "/hang") return;
    if (path === "/slow.txt") return res.writeHead(200, { "content-type": "text/plain" }).write("Arrived in time.");
    res.writeHead(404, { "content-type": "text/plain" }).end("no such page");
  });
  outsider = await startLocalHttp((_req, res) => res.end("must not be reached"));
  const account = await defaultAccount(server.services.db);
  await updateSettings(server.services.db, account, { webFetchAllowlist: [site.host] });
});
afterAll(async () => {
  await site?.close();
  await outsider?.close();
  await server?.close();
});

async function fetchTool(args: Record<string, unknown>) {
  return runToolHere(webFetchTool, args, await toolContextFor(server));
}

describe("web_fetch", () => {
  it("turns an allowlisted HTML page into readable markdown", async () => {
    const result = await fetchTool({ url: `${site.url}/article` });
    expect(result.isError).toBeFalsy();
    expect(result.summary).toBe("Release notes");
    expect(webFetchTool.title({ url: `${site.url}/article` })).toBe(`Read ${site.url}/article`);
    const out = result.output;
    expect(out).toMatch(/^# Release notes\nURL: http:\/\/127\.0\.0\.1:\d+\/article/);
    expect(out).toContain("**faster**");
    expect(out).toContain(`[migration guide](${site.url}/docs/upgrade)`);
    expect(out).toMatch(/## Changes/);
    expect(out).toMatch(/^- +New parser$/m);
    expect(out).toContain("```ts\nconst engine = createEngine({ fast: true });\n```");
    expect(out).toContain("| Metric | 1.0 | 2.0 |\n| --- | --- | --- |\n| Startup | 120 ms | 40 ms |");
    for (const chrome of ["tracking", "color: red", "Pricing menu", "Copyright footer"]) {
      expect(out).not.toContain(chrome);
    }
  });

  it("passes JSON and plain text through", async () => {
    expect((await fetchTool({ url: `${site.url}/data.json` })).output).toContain('{"a":[1,2]}');
    expect((await fetchTool({ url: `${site.url}/notes.txt` })).output).toContain("line one\nline two");
  });

  it("reads a page with NUL bytes, leaving them out", async () => {
    const page = await fetchReadable({ url: `${site.url}/nul.html` }, { allowlist: [site.host] });
    expect(page.title).toBe("Null title");
    expect(page.content).toBe("beforeafter");
  });

  it("follows a redirect and reports where it landed", async () => {
    const result = await fetchTool({ url: `${site.url}/moved` });
    expect(result.metadata).toMatchObject({ url: `${site.url}/article`, status: 200 });
  });

  it("cuts the output at maxChars and says how much was left out", async () => {
    const result = await fetchTool({ url: `${site.url}/long.txt`, maxChars: 1000 });
    expect(result.output).toContain(`${"y".repeat(1000)}\n\n[4000 more characters not shown`);
    expect(result.output).not.toContain("y".repeat(1001));
  });

  it("says when the download hit the size cap", async () => {
    const result = await fetchTool({ url: `${site.url}/huge.txt` });
    expect(result.metadata).toMatchObject({ downloadTruncated: "size" });
    expect(result.output).toContain("larger than the download limit");
  });

  it("refuses loopback that is not allowlisted, and names the fix", async () => {
    for (const url of [`${outsider.url}/`, `http://localhost:${outsider.port}/`, `http://[::1]:${outsider.port}/`]) {
      const result = await fetchTool({ url });
      expect(result.isError).toBe(true);
      expect(result.output).toMatch(/^Refused: .* private, loopback or link-local address/);
    }
    expect(outsider.requests).toHaveLength(0);
  });

  it("reports errors the model can act on", async () => {
    const missing = await fetchTool({ url: `${site.url}/nope` });
    expect(missing).toMatchObject({ isError: true, metadata: { status: 404 } });
    expect(missing.output).toContain("HTTP 404");

    const image = await fetchTool({ url: `${site.url}/image.png` });
    expect(image).toMatchObject({ isError: true });
    expect(image.output).toMatch(/Cannot read image\/png/);

    const scheme = await fetchTool({ url: "file:///etc/passwd" });
    expect(scheme.output).toMatch(/Only http and https/);

    const args = await fetchTool({ url: `${site.url}/article`, maxChars: 10 });
    expect(args.output).toMatch(/^Invalid arguments: maxChars/);
  });

  it("returns what arrived by its time limit, marked truncated for the model", async () => {
    const page = await fetchReadable({ url: `${site.url}/slow.txt` }, { allowlist: [site.host], timeoutMs: 300 });
    expect(page).toMatchObject({ status: 200, downloadTruncated: "deadline" });
    expect(page.content).toContain("Arrived in time.");
    expect(pageNotes(page)).toEqual([
      "[Truncated: the page was still arriving at the time limit; its end is missing.]",
    ]);
  });

  it("gives up after its time limit", async () => {
    const started = Date.now();
    await expect(
      fetchReadable({ url: `${site.url}/hang` }, { allowlist: [site.host], timeoutMs: 300 }),
    ).rejects.toMatchObject({ code: "timeout", message: "Timed out after 0.3 s" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
