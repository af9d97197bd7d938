import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount, settingsOf, updateSettings } from "../accounts/index.js";
import { accountSecrets } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { startSignedIn, type TestServer } from "../testing/harness.js";
import { type LocalHttpServer, startLocalHttp } from "../testing/local-http.js";
import { runToolHere, toolContextFor } from "../testing/tool-context.js";
import { webSearchTool } from "../tools/web-search.js";
import { brave, plain, searxng, tavily } from "./backends.js";
import { NOT_CONFIGURED, saveWebSearchSettings } from "./index.js";

let server: TestServer;
let searx: LocalHttpServer;

beforeAll(async () => {
  ({ server } = await startSignedIn());
  searx = await startLocalHttp((req, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname !== "/search" || url.searchParams.get("format") !== "json") return res.writeHead(403).end();
    const q = url.searchParams.get("q");
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        query: q,
        results: [
          { url: "https://example.org/a", title: `About <b>${q}</b>`, content: "First &amp; best", engine: "x" },
          { title: "No URL, dropped" },
          { url: "https://example.org/b", title: "Second", content: "More", publishedDate: "2026-01-02" },
          { url: "https://example.org/c", title: "Third", content: "" },
        ],
      }),
    );
  });
});
afterAll(async () => {
  await searx?.close();
  await server?.close();
});

async function account() {
  return defaultAccount(server.services.db);
}

async function searchTool(args: Record<string, unknown>) {
  return runToolHere(webSearchTool, args, await toolContextFor(server));
}

describe("web_search", () => {
  it("says clearly that no backend is configured", async () => {
    await updateSettings(server.services.db, await account(), { webSearch: { backend: "none" } });
    const result = await searchTool({ query: "anything" });
    expect(result).toMatchObject({ isError: true, output: NOT_CONFIGURED });
  });

  it("searches a SearXNG instance on an allowlisted address", async () => {
    await saveWebSearchSettings(server.services, await account(), { backend: "searxng", url: `${searx.url}/` });
    await updateSettings(server.services.db, await account(), { webFetchAllowlist: [searx.host] });
    const result = await searchTool({ query: "cybros agents", limit: 2 });
    expect(result.isError).toBeFalsy();
    expect(result.output).toBe(
      "1. About cybros agents\n   https://example.org/a\n   First & best\n\n" +
        "2. Second (2026-01-02)\n   https://example.org/b\n   More",
    );
    expect(result.metadata).toEqual({ backend: "SearXNG", urls: ["https://example.org/a", "https://example.org/b"] });
    expect(searx.requests.at(-1)!.url).toBe("/search?q=cybros+agents&format=json&pageno=1");
  });

  it("refuses a SearXNG on a private address that is not allowlisted", async () => {
    await saveWebSearchSettings(server.services, await account(), { backend: "searxng", url: searx.url });
    await updateSettings(server.services.db, await account(), { webFetchAllowlist: [] });
    const before = searx.requests.length;
    const result = await searchTool({ query: "x" });
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^Refused: 127\.0\.0\.1:\d+ is a private, loopback or link-local address/);
    expect(searx.requests.length).toBe(before);
  });

  it("explains a SearXNG without the JSON format", async () => {
    await saveWebSearchSettings(server.services, await account(), { backend: "searxng", url: `${searx.url}/other/` });
    await updateSettings(server.services.db, await account(), { webFetchAllowlist: [searx.host] });
    const result = await searchTool({ query: "x" });
    expect(result.output).toMatch(/SearXNG answered HTTP 403: enable the json format/);
  });
});

describe("web search settings", () => {
  it("stores a Brave key encrypted, never in the settings, and keeps it when the key is omitted", async () => {
    const saved = await saveWebSearchSettings(server.services, await account(), {
      backend: "brave",
      apiKey: "BSA-secret-key-123",
    });
    expect(settingsOf(saved).webSearch).toEqual({ backend: "brave", apiKeySet: true });
    expect(JSON.stringify(saved)).not.toContain("BSA-secret-key-123");

    const rows = await server.services.db.select().from(accountSecrets);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.name).toBe("web_search.brave.api_key");
    expect(rows[0]!.valueEncrypted).not.toContain("BSA-secret");
    expect(server.services.secrets.decrypt(rows[0]!.valueEncrypted)).toBe("BSA-secret-key-123");

    await saveWebSearchSettings(server.services, await account(), { backend: "none" });
    const again = await saveWebSearchSettings(server.services, await account(), { backend: "brave" });
    expect(settingsOf(again).webSearch).toEqual({ backend: "brave", apiKeySet: true });
    expect(server.logs().some((line) => JSON.stringify(line).includes("BSA-secret"))).toBe(false);
  });

  it("requires a key for a keyed backend that has none, and an http(s) URL for SearXNG", async () => {
    await expect(saveWebSearchSettings(server.services, await account(), { backend: "tavily" })).rejects.toEqual(
      new ValidationError({ "webSearch.apiKey": "is required" }),
    );
    await expect(
      saveWebSearchSettings(server.services, await account(), { backend: "searxng", url: "ftp://searx.lan/" }),
    ).rejects.toThrow(/http\(s\) URL/);
  });
});

describe("backend request and answer mapping", () => {
  it("SearXNG: /search with format=json, from the root or the search page", () => {
    expect(searxng.request("a b", 5, { url: "https://searx.example/" }).url).toBe(
      "https://searx.example/search?q=a+b&format=json&pageno=1",
    );
    expect(searxng.request("a", 5, { url: "https://searx.example/sx/search" }).url).toBe(
      "https://searx.example/sx/search?q=a&format=json&pageno=1",
    );
    expect(searxng.request("a", 5, { url: "https://searx.example/sx" }).url).toBe(
      "https://searx.example/sx/search?q=a&format=json&pageno=1",
    );
  });

  it("Brave: key in X-Subscription-Token, results from web.results", () => {
    const request = brave.request("weather", 3, { apiKey: "k1" });
    expect(request).toEqual({
      url: "https://api.search.brave.com/res/v1/web/search?q=weather&count=3",
      method: "GET",
      headers: { accept: "application/json", "x-subscription-token": "k1" },
    });
    const answer = {
      type: "search",
      web: {
        results: [
          {
            title: "Forecast",
            url: "https://w.example/",
            description: "Sunny <strong>all</strong> week",
            age: "2 days ago",
          },
          { title: "Broken" },
        ],
      },
    };
    expect(brave.results(answer)).toEqual([
      { title: "Forecast", url: "https://w.example/", snippet: "Sunny all week", published: "2 days ago" },
    ]);
    expect(brave.results({ type: "search" })).toEqual([]);
    expect(brave.hint(401)).toMatch(/API key/);
  });

  it("Tavily: POST /search with a bearer key, results from results", () => {
    const request = tavily.request("news", 4, { apiKey: "tvly-k" });
    expect(request).toMatchObject({
      url: "https://api.tavily.com/search",
      method: "POST",
      headers: { authorization: "Bearer tvly-k", "content-type": "application/json" },
    });
    expect(JSON.parse(request.body!)).toEqual({
      query: "news",
      max_results: 4,
      search_depth: "basic",
      include_answer: false,
    });
    const answer = {
      query: "news",
      results: [{ title: "Headline", url: "https://n.example/1", content: "Body text", score: 0.9 }],
    };
    expect(tavily.results(answer)).toEqual([{ title: "Headline", url: "https://n.example/1", snippet: "Body text" }]);
    expect(tavily.results("not json object")).toEqual([]);
    expect(searxng.results(null)).toEqual([]);
  });

  it("plain text from highlighted HTML", () => {
    expect(plain("<em>Fish</em> &amp; chips&#39; &#x263A;  \n ok")).toBe("Fish & chips' ☺ ok");
  });
});
