import { describe, expect, it } from "vitest";
import { highlight, languageOf } from "./highlight";

const kinds = (text: string, language: Parameters<typeof highlight>[1]) =>
  highlight(text, language)
    .filter((t) => t.kind)
    .map((t) => [t.kind, t.text]);

describe("highlight", () => {
  it("keeps every character, in order", () => {
    const text = "name: Helper # the name\nmodel:\n  prefer: [\"a\", 'b']\n";
    expect(
      highlight(text, "yaml")
        .map((t) => t.text)
        .join(""),
    ).toBe(text);
  });

  it("colors YAML keys, strings, literals and comments", () => {
    expect(kinds('name: "Ada" # who\ncount: 3\n', "yaml")).toEqual([
      ["key", "name"],
      ["string", '"Ada"'],
      ["comment", "# who"],
      ["key", "count"],
      ["literal", "3"],
    ]);
  });

  it("colors Liquid inside Markdown and templates", () => {
    expect(kinds("# Title\nHello {{ name }}", "markdown")).toEqual([
      ["heading", "# Title"],
      ["template", "{{ name }}"],
    ]);
    expect(kinds("{% if x %}y{% endif %}", "liquid")).toEqual([
      ["template", "{% if x %}"],
      ["template", "{% endif %}"],
    ]);
  });

  it("picks the language from the file name", () => {
    expect(
      ["agent.yml", "SOUL.md", "prompts/system.md.liquid", "tools/x.json", "hooks/run.sh", "bin/run", "a.txt"].map(
        languageOf,
      ),
    ).toEqual(["yaml", "markdown", "liquid", "json", "script", "script", "text"]);
  });
});
