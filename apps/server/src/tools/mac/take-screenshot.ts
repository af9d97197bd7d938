import { ARTIFACTS_DIR_ENV } from "@cybros/protocol";
import { z } from "zod";
import { defineTool } from "../define.js";
import { failureOf, onTheMac } from "./mac.js";

const FILE = "screenshot.png";

export const takeScreenshotTool = defineTool("take_screenshot", {
  title: ({ display }) => (display ? `Took a screenshot of display ${display}` : "Took a screenshot"),
  idempotent: true,
  description: [
    "Take a screenshot of the user's Mac screen (silently, with screencapture). The image is shown to the person",
    "in the chat, and to you when this model takes images. Without Screen Recording permission for the Nexus the",
    "Mac captures only the desktop background: if the person says the picture is empty, ask them to allow it in System Settings → Privacy & Security.",
  ].join(" "),
  parameters: z.object({
    display: z
      .number()
      .int()
      .min(1)
      .max(16)
      .optional()
      .describe("Which display to capture, 1 for the main one (the default)."),
  }),
  async execute(args, context) {
    const target = `"$${ARTIFACTS_DIR_ENV}/${FILE}"`;
    const display = args.display ? ` -D ${args.display}` : "";
    // A shell, for the folder's path: the Nexus names it in the environment.
    return onTheMac(context, { command: { shell: `screencapture -x${display} ${target}` }, timeout_seconds: 60 });
  },
  finish(outcome, args) {
    const failed = failureOf(outcome, "The screenshot");
    if (failed) return failed;
    const image = outcome.artifacts?.find((artifact) => artifact.name === FILE);
    if (!image) {
      return { output: "screencapture ran but no image came back from the Mac.", isError: true };
    }
    const which = args.display ? `display ${args.display}` : "the main display";
    return {
      summary: `${FILE}, ${Math.max(1, Math.round(image.bytes / 1024))} KB`,
      output:
        // Whether the model sees the image too is the prompt's to say (conversations/tool-images.ts).
        `Took a screenshot of ${which} (${FILE}, ${image.bytes} bytes, artifact ${image.id}). The person sees it ` +
        "in the chat.",
      metadata: { artifacts: [{ id: image.id, name: image.name, contentType: image.contentType }] },
    };
  },
});
