import { describe, expect, it } from "vitest";
import { z } from "zod";
import { runToolHere } from "../testing/tool-context.js";
import { defineTool, type ToolContext } from "./define.js";

/** The wrapper alone: this tool touches nothing of its context. */
const context = {} as ToolContext;

const echo = defineTool("echo", {
  title: ({ text }) => `Echo ${text}`,
  description: "Repeats its text, with a NUL and a lone surrogate around it.",
  parameters: z.object({ text: z.string() }),
  execute: async ({ text }) => ({
    summary: `Echo \u0000${text}`,
    output: `\ud800${text}\u0000`,
    metadata: { seen: text, "key\u0000": ["\udc00"] },
  }),
});

describe("runTool", () => {
  it("hands the tool storable arguments and returns a storable result", async () => {
    const result = await runToolHere(echo, { text: "a\u0000b\ud800" }, context);
    expect(result).toMatchObject({
      summary: "Echo ab\ufffd",
      output: "\ufffdab\ufffd",
      metadata: { seen: "ab\ufffd", key: ["\ufffd"] },
    });
  });
});
