import { toStorableText } from "@cybros/protocol";
import { z } from "zod";
import { type BodyCut, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, outboundRequest } from "../outbound/index.js";
import { htmlToMarkdown } from "./markdown.js";

/** Web fetch: one URL → readable text for a model (HTML as markdown; text and JSON as they are). */

export const DEFAULT_MAX_CHARS = 20_000;
export const MAX_CHARS = 50_000;

export const webFetchInput = z.object({
  url: z.string().trim().min(1, "must not be empty").max(4_000),
  maxChars: z.number().int().min(500).max(MAX_CHARS).default(DEFAULT_MAX_CHARS),
});
export type WebFetchInput = z.input<typeof webFetchInput>;

export interface FetchedPage {
  /** After redirects. */
  url: string;
  status: number;
  contentType: string;
  title: string;
  content: string;
  /** Characters cut from `content` to respect maxChars. */
  omittedChars: number;
  /** The download stopped at the size cap or the deadline, so the end of the document is missing. */
  downloadTruncated: BodyCut | false;
}

export class UnsupportedContentError extends Error {}

export interface FetchLimits {
  allowlist: readonly string[];
  timeoutMs?: number;
  maxBytes?: number;
  signal?: AbortSignal;
}

export async function fetchReadable(input: WebFetchInput, limits: FetchLimits): Promise<FetchedPage> {
  const { url, maxChars } = webFetchInput.parse(input);
  const response = await outboundRequest(url, {
    allowlist: limits.allowlist,
    timeoutMs: limits.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBytes: limits.maxBytes ?? DEFAULT_MAX_BYTES,
    signal: limits.signal,
    headers: {
      "user-agent": "Mozilla/5.0 (compatible; CybrosAgent/0.1; +web_fetch)",
      accept: "text/html,application/xhtml+xml,text/plain,application/json;q=0.9,*/*;q=0.5",
    },
  });
  const contentType = String(response.headers["content-type"] ?? "");
  const mime = contentType.split(";")[0]!.trim().toLowerCase();
  // Any page may hold NUL bytes; what a model reads from it must be storable.
  const text = toStorableText(decodeText(response.body, contentType));
  let title = "";
  let content: string;
  if (isHtml(mime, text)) {
    ({ title, markdown: content } = htmlToMarkdown(text, response.url));
  } else if (isText(mime, response.body)) {
    content = text;
  } else {
    throw new UnsupportedContentError(
      `Cannot read ${mime || "this content"} (${response.body.length} bytes): only HTML, text and JSON are supported`,
    );
  }
  return {
    url: response.url,
    status: response.status,
    contentType: mime,
    title,
    content: content.slice(0, maxChars),
    omittedChars: Math.max(0, content.length - maxChars),
    downloadTruncated: response.truncated,
  };
}

function isHtml(mime: string, text: string): boolean {
  if (mime === "text/html" || mime === "application/xhtml+xml") return true;
  return !mime && /^\s*(<!doctype html|<html[\s>])/i.test(text.slice(0, 512));
}

function isText(mime: string, body: Buffer): boolean {
  if (mime.startsWith("text/")) return true;
  if (/^application\/([\w.-]+\+)?(json|xml|javascript|x-ndjson|yaml|x-yaml|toml)$/.test(mime)) return true;
  // No declared type: text when the first kilobyte has no NUL byte.
  return !mime && !body.subarray(0, 1024).includes(0);
}

/** The declared charset, else a <meta charset> in the first bytes, else UTF-8. */
function decodeText(body: Buffer, contentType: string): string {
  const declared = contentType.match(/charset="?([\w-]+)"?/i)?.[1];
  const sniffed = body
    .subarray(0, 2048)
    .toString("latin1")
    .match(/<meta[^>]+charset=["']?([\w-]+)/i)?.[1];
  for (const label of [declared, sniffed, "utf-8"]) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(body);
    } catch {
      // An unknown label: try the next source.
    }
  }
  return body.toString("utf8");
}
