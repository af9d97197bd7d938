import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { type DirectiveView, emptyDirectiveView } from "./directiveOutput";
import type { ToolPart } from "./reconciler";
import { ToolCallCard } from "./ToolCallCard";
import { type ToolHost, ToolHostContext } from "./toolHost";

const FIELD = "\u001f";
/** What git printed for the tool (its machine format), and the result the tool made of it. */
const PRINTED = ["a1b2c3d4", "a1b2c3d", "Ada", "2026-12-01", "Fix add(): it subtracted"].join(FIELD);
const RESULT = "a1b2c3d 2026-12-01 Ada: Fix add(): it subtracted";

/** A finished git_log call (no card view of its own) that ran as a directive. */
const gitLog: ToolPart = {
  type: "tool_call",
  id: "task-1",
  callId: "call-1",
  name: "git_log",
  args: {},
  state: "completed",
  result: RESULT,
  title: "Viewed history",
  summary: "2 commits",
  directive: { id: "directive-1", territory: "This computer" },
};

function hostShowing(view: DirectiveView | undefined): ToolHost {
  return {
    subscribe: () => () => {},
    directiveOutput: () => view,
    loadDirectiveOutput: () => {},
    answerApproval: async () => {},
  };
}

function showOpen(part: ToolPart, view: DirectiveView | undefined) {
  const { container } = render(
    <ToolHostContext.Provider value={hostShowing(view)}>
      <ToolCallCard part={part} />
    </ToolHostContext.Provider>,
  );
  // A command that prints opens its card by itself.
  if (!container.querySelector("details")!.open) fireEvent.click(screen.getByText("Viewed history"));
  expect(container.querySelector("details")!.open).toBe(true);
}

afterEach(cleanup);

describe("a tool card without a view of its own", () => {
  it("shows the finished call's result, with what the command printed one click away", () => {
    const printed = {
      ...emptyDirectiveView("directive-1"),
      chunks: [{ stream: "stdout" as const, seq: 0, text: PRINTED }],
    };
    showOpen(gitLog, printed);
    expect(screen.getByText("Result")).toBeTruthy();
    expect(screen.getByText(RESULT)).toBeTruthy();
    expect(screen.queryByRole("log", { name: "Output" })).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "Show what the command printed" }));
    expect(screen.getByRole("log", { name: "Output" }).textContent).toContain(PRINTED);
  });

  it("shows the output as it prints while the call runs", () => {
    const running = {
      ...emptyDirectiveView("directive-1"),
      chunks: [{ stream: "stdout" as const, seq: 0, text: PRINTED }],
    };
    showOpen({ ...gitLog, state: "running", result: undefined, summary: undefined }, running);
    expect(screen.getByRole("log", { name: "Output" }).textContent).toContain(PRINTED);
    expect(screen.queryByText("Result")).toBeNull();
  });

  it("shows the result alone when nothing was printed here (a card loaded after the call ended)", () => {
    showOpen(gitLog, undefined);
    expect(screen.getByText(RESULT)).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Show what the command printed" })).toBeNull();
  });
});
