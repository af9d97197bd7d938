import { z } from "zod";
import { defineTool, oneLine } from "../define.js";
import { failureOf, onTheMac } from "./mac.js";

/**
 * The name and input travel in the environment, never in the script's text. Input and output go through files
 * (`--input-path`, `--output-path`), the output as plain text so it can be read back.
 */
const RUN_SHORTCUT = [
  'input="$(mktemp)"; output="$(mktemp)"; trap \'rm -f "$input" "$output"\' EXIT',
  'if [ "$CYBROS_SHORTCUT_HAS_INPUT" = 1 ]; then',
  '  printf "%s" "$CYBROS_SHORTCUT_INPUT" > "$input"; set -- --input-path "$input"',
  "fi",
  'shortcuts run "$CYBROS_SHORTCUT" "$@" --output-path "$output" --output-type public.plain-text || exit $?',
  'cat "$output"',
].join("\n");

export const runShortcutTool = defineTool("run_shortcut", {
  title: ({ name }) => `Ran the shortcut “${name}”`,
  description: [
    "Run one of the user's Shortcuts (from the Shortcuts app) on their Mac by its exact name, optionally with text",
    "as its input, and return its output as text. Ask the user for the name when you do not know it.",
  ].join(" "),
  parameters: z.object({
    name: z.string().trim().min(1, "is required").max(200).describe("The shortcut's name, exactly as in Shortcuts."),
    input: z.string().max(100_000).optional().describe("Text given to the shortcut as its input."),
  }),
  async execute(args, context) {
    const env: Record<string, string> = { CYBROS_SHORTCUT: args.name };
    if (args.input !== undefined)
      Object.assign(env, { CYBROS_SHORTCUT_HAS_INPUT: "1", CYBROS_SHORTCUT_INPUT: args.input });
    return onTheMac(context, { command: { shell: RUN_SHORTCUT }, env, timeout_seconds: 300 });
  },
  finish(outcome, args) {
    const failed = failureOf(outcome, `The shortcut “${args.name}”`);
    if (failed) return failed;
    const printed = outcome.stdout.trim();
    return {
      summary: printed ? oneLine(printed) : "Done",
      output: printed ? printed : `The shortcut “${args.name}” ran and gave no output.`,
    };
  },
});
