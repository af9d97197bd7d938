import type { HookExecution } from "@cybros/protocol";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RunInspector } from "./RunInspector";
import { runSummary } from "./testing";

const hook = (fields: Partial<HookExecution> & Pick<HookExecution, "id" | "hook" | "state">): HookExecution => ({
  directiveId: null,
  toolCallNodeId: null,
  exitCode: null,
  durationMs: null,
  stderr: "",
  output: null,
  warning: null,
  ...fields,
});

function show(hooks: HookExecution[] | undefined) {
  const detail = { run: runSummary({ id: "r1", state: "succeeded" }), llmCalls: [], toolCalls: [], hooks };
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => new Response(JSON.stringify(detail), { headers: { "content-type": "application/json" } })),
  );
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter>
        <RunInspector runId="r1" run={null} />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("RunInspector", () => {
  it("lists each hook the run ran: how it ended, why it was not applied, stderr's end and its answer", async () => {
    show([
      hook({
        id: "s1",
        hook: "before_inference",
        state: "failed",
        exitCode: 3,
        durationMs: 42,
        stderr: "mood service unreachable\n",
        warning: "failed with exit code 3",
      }),
      hook({
        id: "s2",
        hook: "after_tool_call",
        state: "succeeded",
        exitCode: 0,
        durationMs: 1500,
        output: { annotation: "Checked" },
      }),
    ]);
    const heading = await screen.findByRole("heading", { name: "Hooks" });
    const rows = heading.parentElement!.querySelectorAll("[data-hook-execution]");
    expect([...rows].map((row) => row.getAttribute("data-hook-execution"))).toEqual([
      "before_inference",
      "after_tool_call",
    ]);
    const failed = rows[0] as HTMLElement;
    expect(within(failed).getByText("failed")).toBeTruthy();
    expect(failed.textContent).toContain("42 ms · exit 3");
    expect(within(failed).getByText("It failed with exit code 3.")).toBeTruthy();
    expect(failed.querySelector("pre")!.textContent).toBe("mood service unreachable");
    const applied = rows[1] as HTMLElement;
    expect(within(applied).getByText("applied")).toBeTruthy();
    expect(applied.textContent).toContain("1.5 s · exit 0");
    expect(JSON.parse(applied.querySelector("pre")!.textContent!)).toEqual({ annotation: "Checked" });
  });

  it("has no Hooks section for a run without hooks", async () => {
    show(undefined);
    await screen.findByRole("heading", { name: "Run" });
    expect(screen.queryByRole("heading", { name: "Hooks" })).toBeNull();
  });
});
