import { z } from "zod";
import { defineTool } from "../define.js";
import { failureOf, onTheMac } from "./mac.js";

/**
 * JavaScript for Automation: the app bundles in the usual folders, read with Foundation (no app is asked, so no
 * permission prompt), one name a line.
 */
const LIST_APPS = `ObjC.import("Foundation");
var fm = $.NSFileManager.defaultManager;
var home = ObjC.unwrap($.NSHomeDirectory());
var seen = {};
["/Applications", "/Applications/Utilities", "/System/Applications", "/System/Applications/Utilities",
  home + "/Applications"].forEach(function (dir) {
  var entries = fm.contentsOfDirectoryAtPathError(dir, $());
  if (entries.isNil()) return;
  ObjC.unwrap(entries).forEach(function (entry) {
    var name = ObjC.unwrap(entry);
    if (name.slice(-4) === ".app") seen[name.slice(0, -4)] = true;
  });
});
Object.keys(seen).sort().join("\\n");`;

export const listAppsTool = defineTool("list_apps", {
  title: () => "Listed the apps on the Mac",
  idempotent: true,
  description: [
    "List the applications installed on the user's Mac (in /Applications, /System/Applications and ~/Applications),",
    "by name. Use it to check that an app exists, and its exact name, before scripting it.",
  ].join(" "),
  parameters: z.object({}),
  async execute(_args, context) {
    return onTheMac(context, { command: { argv: ["osascript", "-l", "JavaScript", "-e", LIST_APPS] } });
  },
  finish(outcome) {
    const failed = failureOf(outcome, "Listing the apps");
    if (failed) return failed;
    const names = outcome.stdout
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    if (names.length === 0) return { summary: "No apps found", output: "No applications were found on the Mac." };
    return {
      summary: `${names.length} apps`,
      output: `${names.length} applications on the Mac:\n${names.join("\n")}`,
      metadata: { count: names.length },
    };
  },
});
