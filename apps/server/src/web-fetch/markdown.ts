import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import TurndownService from "turndown";

/**
 * HTML → markdown a model can read: the main content when Readability finds an article, otherwise the page
 * without its chrome (scripts, styles, navigation, headers, footers, forms). Headings, links (absolute), lists,
 * code blocks and tables survive; images keep only their alt text.
 */

/** Below this much article text, Readability probably picked a fragment: use the whole cleaned page instead. */
const MIN_ARTICLE_CHARS = 250;

const CHROME =
  "script, style, noscript, template, iframe, object, embed, svg, canvas, nav, header, footer, aside, form";

// linkedom's DOM, typed loosely: the server compiles without the DOM lib.
// biome-ignore lint/suspicious/noExplicitAny: a DOM node from linkedom
type DomNode = any;

export function htmlToMarkdown(html: string, pageUrl: string): { title: string; markdown: string } {
  const { document } = parseHTML(html);
  const title = (document.querySelector("title")?.textContent ?? "").replace(/\s+/g, " ").trim();
  absolutizeLinks(document, pageUrl);

  let root: DomNode;
  const article = new Readability(parseHTML(document.toString()).document, {
    charThreshold: MIN_ARTICLE_CHARS,
    keepClasses: true, // code blocks name their language in a class
  }).parse();
  if (article?.content && (article.textContent ?? "").trim().length >= MIN_ARTICLE_CHARS) {
    root = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`).document.body;
  } else {
    for (const element of document.querySelectorAll(CHROME)) element.remove();
    root = document.body ?? document.documentElement;
  }
  const markdown = root ? turndown.turndown(root) : "";
  return { title: title || (article?.title ?? "").trim(), markdown: markdown.replace(/\n{3,}/g, "\n\n").trim() };
}

function absolutizeLinks(document: DomNode, pageUrl: string): void {
  const base = document.querySelector("base[href]")?.getAttribute("href");
  const baseUrl = safeUrl(base ?? "", pageUrl) ?? pageUrl;
  for (const [selector, attribute] of [
    ["a[href]", "href"],
    ["img[src]", "src"],
  ] as const) {
    for (const element of document.querySelectorAll(selector)) {
      const absolute = safeUrl(element.getAttribute(attribute), baseUrl);
      // javascript: and other non-web links are dropped; their text stays.
      if (absolute && /^https?:|^mailto:/.test(absolute)) element.setAttribute(attribute, absolute);
      else element.removeAttribute(attribute);
    }
  }
}

function safeUrl(value: string, base: string): string | undefined {
  try {
    return new URL(value, base).toString();
  } catch {
    return undefined;
  }
}

const turndown = new TurndownService({
  headingStyle: "atx",
  codeBlockStyle: "fenced",
  bulletListMarker: "-",
  emDelimiter: "_",
});
turndown.remove(["script", "style", "noscript", "template"] as never);

turndown.addRule("images", {
  filter: "img",
  replacement: (_content, node: DomNode) => {
    const alt = String(node.getAttribute("alt") ?? "").trim();
    return alt ? `[image: ${alt}]` : "";
  },
});

turndown.addRule("linksWithoutTarget", {
  filter: (node: DomNode) => node.nodeName === "A" && !node.getAttribute("href"),
  replacement: (content) => content,
});

/** Code blocks keep their language when the class names one (`language-ts`, `lang-ts`). */
turndown.addRule("fencedCode", {
  filter: (node: DomNode) => node.nodeName === "PRE",
  replacement: (_content, node: DomNode) => {
    const code = node.querySelector("code") ?? node;
    const language = String(code.getAttribute("class") ?? "").match(/(?:language|lang)-([\w+-]+)/)?.[1] ?? "";
    const text = String(code.textContent ?? "").replace(/\n$/, "");
    const fence = text.includes("```") ? "~~~" : "```";
    return `\n\n${fence}${language}\n${text}\n${fence}\n\n`;
  },
});

/** Tables become GitHub tables: the first row is the header; cells flatten to one line. */
turndown.addRule("tables", {
  filter: "table",
  replacement: (_content, node: DomNode) => {
    const rows: string[][] = tableRows(node).map((row) =>
      cellsOf(row).map((cell) =>
        turndown
          .turndown(cell)
          .replace(/\s*\n+\s*/g, " ")
          .replace(/\|/g, "\\|")
          .trim(),
      ),
    );
    if (!rows.length) return "";
    const width = Math.max(...rows.map((r) => r.length));
    const line = (cells: string[]) => `| ${Array.from({ length: width }, (_, i) => cells[i] ?? "").join(" | ")} |`;
    const [header, ...body] = rows;
    return `\n\n${[line(header!), line(Array(width).fill("---")), ...body.map(line)].join("\n")}\n\n`;
  },
});

/** The table's own rows, not those of tables nested in its cells. */
function tableRows(table: DomNode): DomNode[] {
  const rows: DomNode[] = [];
  for (const child of table.children) {
    if (child.nodeName === "TR") rows.push(child);
    else if (["THEAD", "TBODY", "TFOOT"].includes(child.nodeName)) {
      for (const row of child.children) if (row.nodeName === "TR") rows.push(row);
    }
  }
  return rows;
}

function cellsOf(row: DomNode): DomNode[] {
  return [...row.children].filter((cell: DomNode) => cell.nodeName === "TD" || cell.nodeName === "TH");
}
