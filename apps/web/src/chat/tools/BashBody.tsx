import { fieldsOf, text } from "./fields";
import type { ToolBodyProps } from "./index";
import { OutputPane } from "./OutputPane";

/** bash: `$ command`, its output live as it runs, then how it ended. While it waits for approval, the ask says it all. */
export function BashBody({ part, output }: ToolBodyProps) {
  if (part.approval && part.state !== "completed" && part.state !== "error") return null;
  const command = text(fieldsOf(part.args), "command");
  return <OutputPane part={part} view={output} command={command} resultAsOutput />;
}
