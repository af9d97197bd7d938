import { z } from "zod";
import { OutboundError } from "../outbound/index.js";
import { MAX_RESULTS, WebSearchError, webSearch, webSearchQuery } from "../web-search/index.js";
import { defineTool, ToolError } from "./define.js";

export const webSearchTool = defineTool("web_search", {
  title: ({ query }) => `Searched the web for “${query}”`,
  idempotent: true,
  description: [
    "Search the web. Returns the top results, each with title, URL and a short snippet. Use it for current events,",
    "facts you are unsure of, or anything that may have changed since your training; then read the most promising",
    "pages with web_fetch. Write the query as you would in a search engine.",
  ].join(" "),
  parameters: z.object({
    query: webSearchQuery.shape.query.describe("The search query."),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_RESULTS)
      .optional()
      .describe(`How many results, 1–${MAX_RESULTS} (default 5).`),
  }),
  async execute(args, context) {
    let found: Awaited<ReturnType<typeof webSearch>>;
    try {
      found = await webSearch(context.services, context.account, args, { signal: context.signal });
    } catch (error) {
      if (error instanceof WebSearchError || error instanceof OutboundError) throw new ToolError(error.message);
      throw error;
    }
    const { backend, results } = found;
    const metadata = { backend, urls: results.map((r) => r.url) };
    if (!results.length) return { summary: "No results", output: "No results.", metadata };
    const lines = results.map((r, i) => {
      const published = r.published ? ` (${r.published})` : "";
      return `${i + 1}. ${r.title}${published}\n   ${r.url}${r.snippet ? `\n   ${r.snippet}` : ""}`;
    });
    return {
      summary: `${results.length} ${results.length === 1 ? "result" : "results"}`,
      output: lines.join("\n\n"),
      metadata,
    };
  },
});
