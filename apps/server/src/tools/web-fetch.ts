import { z } from "zod";
import { settingsOf } from "../accounts/index.js";
import { OutboundError } from "../outbound/index.js";
import {
  type FetchedPage,
  fetchReadable,
  MAX_CHARS,
  UnsupportedContentError,
  webFetchInput,
} from "../web-fetch/index.js";
import { defineTool, oneLine, ToolError } from "./define.js";

export const webFetchTool = defineTool("web_fetch", {
  title: ({ url }) => `Read ${url}`,
  idempotent: true,
  description: [
    "Fetch one web page (http or https) and read it: HTML comes back as markdown of its main content (headings,",
    "links, lists, code, tables), plain text and JSON as they are. Use it to read a page you found with web_search",
    "or that the user gave you. Private and local network addresses are refused unless an administrator allowed",
    "them. Long pages are cut at maxChars; the result says how much was left out.",
  ].join(" "),
  parameters: z.object({
    url: webFetchInput.shape.url.describe("The full URL, starting with http:// or https://."),
    maxChars: z
      .number()
      .int()
      .min(500)
      .max(MAX_CHARS)
      .optional()
      .describe(`Most characters of content to return (default 20000, at most ${MAX_CHARS}).`),
  }),
  async execute(args, context) {
    let page: Awaited<ReturnType<typeof fetchReadable>>;
    try {
      page = await fetchReadable(args, {
        allowlist: settingsOf(context.account).webFetchAllowlist,
        signal: context.signal,
      });
    } catch (error) {
      if (error instanceof OutboundError || error instanceof UnsupportedContentError)
        throw new ToolError(error.message);
      throw error;
    }
    const notes = pageNotes(page);
    const header = [
      page.title ? `# ${page.title}` : "",
      `URL: ${page.url}`,
      page.status >= 400 ? `HTTP ${page.status}` : "",
    ]
      .filter(Boolean)
      .join("\n");
    return {
      summary: page.status >= 400 ? `HTTP ${page.status}` : oneLine(page.title || page.contentType),
      output: [header, page.content || "(no readable content)", ...notes].join("\n\n"),
      metadata: {
        url: page.url,
        status: page.status,
        contentType: page.contentType,
        omittedChars: page.omittedChars,
        downloadTruncated: page.downloadTruncated,
      },
      isError: page.status >= 400,
    };
  },
});

/** What the model must know about the content it got: cut by the download's size cap or deadline, or by maxChars. */
export function pageNotes(page: FetchedPage): string[] {
  const notes: string[] = [];
  if (page.downloadTruncated === "size") {
    notes.push("[Truncated: the page was larger than the download limit; its end is missing.]");
  }
  if (page.downloadTruncated === "deadline") {
    notes.push("[Truncated: the page was still arriving at the time limit; its end is missing.]");
  }
  if (page.omittedChars) notes.push(`[${page.omittedChars} more characters not shown; raise maxChars to read more.]`);
  return notes;
}
