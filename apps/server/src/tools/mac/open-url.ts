import { z } from "zod";
import { defineTool } from "../define.js";
import { failureOf, onTheMac } from "./mac.js";

const OPENABLE = ["http:", "https:", "mailto:"];

export const openUrlTool = defineTool("open_url", {
  title: ({ url }) => `Opened ${url} on the Mac`,
  description: [
    "Open a link on the user's Mac with its default app: a web page (http or https) in the browser, or a mailto:",
    "link as a new email draft. Other kinds of links are refused.",
  ].join(" "),
  parameters: z.object({
    url: z
      .string()
      .trim()
      .max(8_000)
      .refine((value) => URL.canParse(value) && OPENABLE.includes(new URL(value).protocol), {
        error: "must be an http, https or mailto link",
      })
      .describe("The full link, starting with http://, https:// or mailto:."),
  }),
  async execute(args, context) {
    // The parsed form starts with its scheme, so `open` can never read it as one of its options.
    return onTheMac(context, { command: { argv: ["open", new URL(args.url).href] }, timeout_seconds: 30 });
  },
  finish(outcome, args) {
    const url = new URL(args.url).href;
    return failureOf(outcome, `Opening ${url}`) ?? { summary: "Opened", output: `Opened ${url} on the Mac.` };
  },
});
