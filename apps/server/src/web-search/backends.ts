import { z } from "zod";

/**
 * How each web search service is asked and how its answer maps to results. Pure: the HTTP exchange (with its
 * address checks and limits) happens in index.ts, so every backend is tested on its own request and answer.
 */

export interface WebSearchResult {
  title: string;
  url: string;
  snippet: string;
  /** As the service gives it (a date, or "3 days ago"). */
  published?: string;
}

export interface BackendRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

export interface WebSearchBackend {
  label: string;
  request(query: string, limit: number, config: { url?: string; apiKey?: string }): BackendRequest;
  results(json: unknown): WebSearchResult[];
  /** A hint for a refused request (e.g. the key is wrong), appended to the error the model reads. */
  hint(status: number): string | undefined;
}

const text = z.string().nullish().catch(undefined);

function compact(
  results: { title?: string | null; url?: string | null; snippet?: string | null; published?: string | null }[],
) {
  return results.flatMap((r) =>
    r.url
      ? [
          {
            title: plain(r.title ?? "") || r.url,
            url: r.url,
            snippet: plain(r.snippet ?? ""),
            ...(r.published ? { published: r.published } : {}),
          },
        ]
      : [],
  );
}

/** Services put <strong> highlights and entities in titles and snippets; a model wants plain text. */
export function plain(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&(#\d+|#x[\da-f]+|amp|lt|gt|quot|apos|#39|nbsp);/gi, (entity) => {
      const name = entity.slice(1, -1).toLowerCase();
      if (name.startsWith("#x")) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
      if (name.startsWith("#")) return String.fromCodePoint(Number(name.slice(1)));
      return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " }[name] ?? entity;
    })
    .replace(/\s+/g, " ")
    .trim();
}

const searxngAnswer = z
  .object({
    results: z.array(z.object({ url: text, title: text, content: text, publishedDate: text }).catch({})).catch([]),
  })
  .catch({ results: [] });

export const searxng: WebSearchBackend = {
  label: "SearXNG",
  request(query, _limit, { url }) {
    const base = new URL(url!);
    // Accept the instance root ("https://searx.example/") or its search page ("…/search").
    const endpoint = base.pathname.endsWith("/search") ? base : new URL("search", base.href.replace(/\/?$/, "/"));
    endpoint.search = new URLSearchParams({ q: query, format: "json", pageno: "1" }).toString();
    return { url: endpoint.toString(), method: "GET", headers: { accept: "application/json" } };
  },
  results(json) {
    const answer = searxngAnswer.parse(json);
    return compact(
      answer.results.map((r) => ({ title: r.title, url: r.url, snippet: r.content, published: r.publishedDate })),
    );
  },
  hint: (status) =>
    status === 403 ? "enable the json format in the SearXNG settings.yml (search: formats: [html, json])" : undefined,
};

const braveAnswer = z
  .object({
    web: z
      .object({
        results: z
          .array(z.object({ url: text, title: text, description: text, age: text, page_age: text }).catch({}))
          .catch([]),
      })
      .catch({ results: [] }),
  })
  .catch({ web: { results: [] } });

export const brave: WebSearchBackend = {
  label: "Brave Search",
  request(query, limit, { apiKey }) {
    const url = new URL("https://api.search.brave.com/res/v1/web/search");
    url.search = new URLSearchParams({ q: query, count: String(Math.min(limit, 20)) }).toString();
    return {
      url: url.toString(),
      method: "GET",
      headers: { accept: "application/json", "x-subscription-token": apiKey! },
    };
  },
  results(json) {
    const answer = braveAnswer.parse(json);
    return compact(
      answer.web.results.map((r) => ({
        title: r.title,
        url: r.url,
        snippet: r.description,
        published: r.age ?? r.page_age,
      })),
    );
  },
  hint: (status) =>
    status === 401 || status === 403 ? "check the Brave Search API key in System settings" : undefined,
};

const tavilyAnswer = z
  .object({
    results: z.array(z.object({ url: text, title: text, content: text, published_date: text }).catch({})).catch([]),
  })
  .catch({ results: [] });

export const tavily: WebSearchBackend = {
  label: "Tavily",
  request(query, limit, { apiKey }) {
    return {
      url: "https://api.tavily.com/search",
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, max_results: Math.min(limit, 20), search_depth: "basic", include_answer: false }),
    };
  },
  results(json) {
    const answer = tavilyAnswer.parse(json);
    return compact(
      answer.results.map((r) => ({ title: r.title, url: r.url, snippet: r.content, published: r.published_date })),
    );
  },
  hint: (status) => (status === 401 || status === 403 ? "check the Tavily API key in System settings" : undefined),
};

export const backends = { searxng, brave, tavily } as const;
