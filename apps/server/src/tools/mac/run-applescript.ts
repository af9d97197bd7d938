import { z } from "zod";
import { defineTool, oneLine } from "../define.js";
import { failureOf, onTheMac } from "./mac.js";

export const runAppleScriptTool = defineTool("run_applescript", {
  title: () => "Ran AppleScript on the Mac",
  description: [
    "Run an AppleScript on the user's Mac with osascript and return what it printed (the value of its last",
    "statement). Use it to control apps (Finder, Mail, Calendar, Music, System Events…), read their state, or show",
    "a notification. Keep scripts short and say what they will do before running anything that changes data.",
    "The first use of an app may need the user to allow it in the Mac's Privacy & Security settings.",
  ].join(" "),
  parameters: z.object({
    script: z.string().trim().min(1, "is required").max(20_000).describe("The AppleScript source to run."),
  }),
  async execute(args, context) {
    return onTheMac(context, { command: { argv: ["osascript", "-e", args.script] } });
  },
  finish(outcome) {
    const failed = failureOf(outcome, "The AppleScript");
    if (failed) return failed;
    const printed = outcome.stdout.trim();
    return {
      summary: printed ? oneLine(printed) : "Done",
      output: printed || "The AppleScript ran and returned nothing.",
    };
  },
});
