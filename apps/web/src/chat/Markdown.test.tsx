import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_PARAGRAPH_CHARS, Markdown } from "./Markdown";
import { MAX_BLOCK_CHARS, renderMarkdown } from "./markdown";

afterEach(cleanup);

/** The reply's HTML without the renderer's own wrappers (block divs, paragraph pieces), whitespace collapsed. */
function visibleHtml(root: Element): string {
  const copy = root.cloneNode(true) as Element;
  for (const wrapper of [...copy.querySelectorAll("div.chat-block, p > span:not([class])")]) {
    wrapper.replaceWith(...wrapper.childNodes);
  }
  return normalized(copy.innerHTML);
}

function normalized(html: string): string {
  return html
    .replace(/\s+/g, " ")
    .replace(/> </g, "><")
    .replace(/ <\/p>/g, "</p>")
    .trim();
}

/** Where two renderings part, with some context; null when they are equal (keeps a failure readable). */
function difference(actual: string, expected: string): string | null {
  if (actual === expected) return null;
  let i = 0;
  while (actual[i] === expected[i]) i++;
  return `at ${i}: …${actual.slice(i - 40, i + 60)}… instead of …${expected.slice(i - 40, i + 60)}…`;
}

function renderedAt(text: string, chunk: number): Element {
  const { container, rerender } = render(<Markdown text={text.slice(0, chunk)} final={false} />);
  for (let end = chunk * 2; end < text.length + chunk; end += chunk) {
    rerender(<Markdown text={text.slice(0, end)} final={end >= text.length} />);
  }
  return container.querySelector(".chat-markdown")!;
}

describe("Markdown, a long reply", () => {
  const sentence = "The quick brown fox jumps over the *lazy* dog, and `code` stays inline.";
  const lines = (count: number) =>
    Array.from({ length: count }, (_, i) => `${String(i + 1).padStart(4, "0")}: ${sentence}`).join("\n");
  const paragraph = lines(90);

  it("shows a paragraph over the block cap as one paragraph, streamed or whole", () => {
    expect(paragraph.length).toBeGreaterThan(MAX_BLOCK_CHARS * 1.5);
    expect(paragraph.length).toBeLessThan(MAX_PARAGRAPH_CHARS);
    const text = `# Notes\n${paragraph}\n\nAfter.`;
    const whole = normalized(renderMarkdown(text));
    for (const chunk of [401, text.length]) {
      const root = renderedAt(text, chunk);
      expect(root.querySelectorAll("p")).toHaveLength(2);
      expect(difference(visibleHtml(root), whole), `chunk ${chunk}`).toBeNull();
      cleanup();
    }
  });

  it("goes on past MAX_PARAGRAPH_CHARS in a flush <p>: a line break, never a paragraph gap or lost text", () => {
    const huge = lines(400);
    const root = renderedAt(`${huge}\n\nAfter.`, 1_000);
    const blocks = [...root.querySelectorAll(".chat-block")];
    expect(blocks.length).toBeGreaterThan(2);
    expect(blocks[0]!.className).toContain("chat-continues");
    expect(blocks[1]!.className).toContain("chat-continued");
    const shown = [...root.querySelectorAll("p")].map((p) => p.textContent).join("\n");
    expect(shown.replace(/\s+/g, " ").trim()).toBe(
      `${huge}\n\nAfter.`
        .replace(/\s+/g, " ")
        .replace(/`code`/g, "code")
        .replace(/\*lazy\*/g, "lazy"),
    );
  });

  it("still ends a long paragraph where a heading or list interrupts it", () => {
    const text = `${paragraph}\n## Next\n${paragraph}\n- item one\n- item two`;
    const root = renderedAt(text, 700);
    expect(difference(visibleHtml(root), normalized(renderMarkdown(text)))).toBeNull();
  });

  it("keeps a long code block whole, every line in one block", () => {
    const code = Array.from({ length: 300 }, (_, i) => `const value${i} = ${i}; // ${"x".repeat(20)}`).join("\n");
    expect(code.length).toBeGreaterThan(2 * MAX_BLOCK_CHARS);
    const root = renderedAt(`Intro\n\n\`\`\`ts\n${code}\n\`\`\`\n`, 300);
    expect(root.querySelectorAll("pre")).toHaveLength(1);
    expect(root.querySelector("pre code")!.textContent).toBe(code);
  });
});

describe("CodeBlock", () => {
  it("highlights a finished block and keeps the code as text", async () => {
    const code = 'const greeting: string = "hello"; // a comment';
    const { container } = render(<Markdown text={`\`\`\`ts\n${code}\n\`\`\``} />);
    await screen.findByText("const", { selector: ".hljs-keyword" });
    expect(container.querySelector("pre code[data-highlighted]")!.textContent).toBe(code);
  });

  it("leaves a block that is still streaming, and an unknown language, plain", async () => {
    const streaming = render(<Markdown text={"```ts\nconst a = 1;\n"} final={false} />);
    const unknown = render(<Markdown text={"```nosuchlanguage\nconst a = 1;\n```"} />);
    // Once the highlighter's module has loaded, any highlighting would have been applied.
    await act(async () => {
      await import("./highlight");
    });
    expect(streaming.container.querySelector("[data-highlighted]")).toBeNull();
    expect(unknown.container.querySelector("[data-highlighted]")).toBeNull();
    expect(unknown.container.querySelector("pre code")!.textContent).toBe("const a = 1;");
  });
});
