import type { ComponentType } from "react";
import type { DirectiveView } from "../directiveOutput";
import type { ToolPart } from "../reconciler";
import { BashBody } from "./BashBody";
import { DiffBody, diffOf } from "./DiffBody";
import { diffStats, parseUnifiedDiff } from "./diff";
import { ReadFileBody, readRange } from "./ReadFileBody";
import { ScreenshotBody } from "./ScreenshotBody";

export interface ToolBodyProps {
  part: ToolPart;
  /** The live output of the call's directive, when it runs as one. */
  output: DirectiveView | undefined;
}

interface ToolView {
  Body: ComponentType<ToolBodyProps>;
  /** The card's one line when the tool gave none. */
  line?: (part: ToolPart) => string | undefined;
}

const diffLine = (part: ToolPart) => {
  if (part.state !== "completed") return undefined;
  const diff = diffOf(part);
  if (diff === undefined) return undefined;
  const { added, removed } = diffStats(parseUnifiedDiff(diff));
  return added + removed === 0 ? "No changes" : `+${added} −${removed}`;
};

/** What a person wants to see of a call, by tool: the command and its output, the change, the lines read. */
const views: Record<string, ToolView> = {
  bash: { Body: BashBody },
  edit_file: { Body: DiffBody, line: diffLine },
  write_file: { Body: DiffBody, line: diffLine },
  git_diff: { Body: DiffBody, line: diffLine },
  read_file: { Body: ReadFileBody, line: readRange },
  take_screenshot: { Body: ScreenshotBody },
};

/** The view of a tool, or undefined for the generic one (arguments and result as JSON). */
export function toolView(name: string): ToolView | undefined {
  return views[name];
}
