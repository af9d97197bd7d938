import hljs from "highlight.js/lib/common";

/**
 * Syntax highlighting for code blocks, in its own chunk (Markdown.tsx imports it when a finished code block first
 * shows). highlight.js: plain JavaScript, so it runs under the app's CSP (no eval, no WebAssembly), and its
 * common set covers the languages replies use. Its output escapes the code; only its own spans are markup.
 */
export function highlightCode(code: string, lang: string): string | null {
  const language = lang.toLowerCase();
  if (!language || !hljs.getLanguage(language)) return null;
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}
