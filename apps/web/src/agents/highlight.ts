/**
 * A small highlighter for the files an agent is made of: YAML, Markdown, Liquid, JSON and scripts. Each language
 * is one regular expression whose capture groups name token kinds; what no group matches stays plain. It only
 * colors text (the editor's textarea holds the truth), so being approximate costs nothing.
 */
export type Language = "yaml" | "markdown" | "liquid" | "json" | "script" | "text";

export interface Token {
  text: string;
  kind?: TokenKind;
}

type TokenKind = "comment" | "key" | "string" | "literal" | "heading" | "markup" | "template" | "keyword";

const LIQUID = String.raw`(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})`;
const STRING = String.raw`("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')`;

const GRAMMARS: Record<Exclude<Language, "text">, { pattern: RegExp; kinds: TokenKind[] }> = {
  yaml: {
    pattern: new RegExp(
      [
        String.raw`((?:^|(?<=\s))#.*$)`,
        String.raw`(^[ \t]*(?:- )?[^\s#:'"][^:\n]*?(?=:(?:\s|$)))`,
        STRING,
        String.raw`(\b(?:true|false|null|~|-?\d+(?:\.\d+)?)\b)`,
      ].join("|"),
      "gm",
    ),
    kinds: ["comment", "key", "string", "literal"],
  },
  markdown: {
    pattern: new RegExp(
      [
        LIQUID,
        String.raw`(^#{1,6}\s.*$)`,
        String.raw`(^\s*(?:[-*+]|\d+\.)\s|\*\*[^*\n]+\*\*|\[[^\]\n]*\]\([^)\n]*\))`,
        String.raw`(^\x60{3}.*$|\x60[^\x60\n]+\x60)`,
        "(<!--[\\s\\S]*?-->)",
      ].join("|"),
      "gm",
    ),
    kinds: ["template", "heading", "markup", "string", "comment"],
  },
  liquid: {
    pattern: new RegExp(
      [
        String.raw`(\{%-?\s*comment\s*-?%\}[\s\S]*?\{%-?\s*endcomment\s*-?%\})`,
        LIQUID,
        String.raw`(^#{1,6}\s.*$)`,
        String.raw`(^\s*(?:[-*+]|\d+\.)\s|\*\*[^*\n]+\*\*)`,
      ].join("|"),
      "gm",
    ),
    kinds: ["comment", "template", "heading", "markup"],
  },
  json: {
    pattern: new RegExp(
      [
        String.raw`("(?:[^"\\\n]|\\.)*"(?=\s*:))`,
        STRING,
        String.raw`(\b(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\b)`,
      ].join("|"),
      "gm",
    ),
    kinds: ["key", "string", "literal"],
  },
  script: {
    pattern: new RegExp(
      [
        String.raw`((?:^|(?<=\s))(?:#|//).*$)`,
        STRING,
        String.raw`(\b(?:if|then|else|elif|fi|for|while|do|done|case|esac|function|return|def|class|import|from|const|let|var|async|await|export|echo|exit|in|not|and|or)\b)`,
        String.raw`(\b(?:true|false|null|None|True|False|\d+)\b|\$\{?\w+\}?)`,
      ].join("|"),
      "gm",
    ),
    kinds: ["comment", "string", "keyword", "literal"],
  },
};

export function languageOf(path: string): Language {
  const name = path.toLowerCase();
  if (/\.ya?ml$/.test(name)) return "yaml";
  if (name.endsWith(".liquid")) return "liquid";
  if (/\.(md|markdown)$/.test(name)) return "markdown";
  if (name.endsWith(".json")) return "json";
  if (/\.(sh|bash|py|js|mjs|ts|rb|pl)$/.test(name) || !name.includes(".")) return "script";
  return "text";
}

export function highlight(text: string, language: Language): Token[] {
  if (language === "text") return [{ text }];
  const { pattern, kinds } = GRAMMARS[language];
  const tokens: Token[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match[0] === "") continue;
    const group = match.findIndex((value, index) => index > 0 && value !== undefined);
    if (match.index > last) tokens.push({ text: text.slice(last, match.index) });
    tokens.push({ text: match[0], kind: kinds[group - 1] });
    last = match.index + match[0].length;
  }
  if (last < text.length) tokens.push({ text: text.slice(last) });
  return tokens;
}

export const TOKEN_CLASSES: Record<TokenKind, string> = {
  comment: "text-fg-subtle italic",
  key: "text-accent-text",
  string: "text-success-text",
  literal: "text-warning-text",
  heading: "text-accent-text font-semibold",
  markup: "text-warning-text",
  template: "text-danger-text",
  keyword: "text-accent-text",
};
