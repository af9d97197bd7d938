import type { ConversationSummary } from "@cybros/protocol";
import { describe, expect, it } from "vitest";
import { groupByRecency } from "./grouping";

function conversation(id: string, lastMessageAt: Date): ConversationSummary {
  return {
    id,
    title: id,
    agentProgramId: "a",
    agentName: "Assistant",
    archivedAt: null,
    lastMessageAt: lastMessageAt.toISOString(),
    createdAt: lastMessageAt.toISOString(),
  };
}

describe("groupByRecency", () => {
  // Local time, mid-afternoon, so "today" has room on both sides.
  const now = new Date(2026, 2, 15, 15, 0, 0);
  const at = (days: number, hours = 0) => new Date(2026, 2, 15 - days, 12 + hours, 0, 0);

  it("splits by calendar day into Today, Yesterday, Previous 7 days and Older, keeping order", () => {
    const list = [
      conversation("now", now),
      conversation("this-morning", new Date(2026, 2, 15, 0, 5)),
      conversation("late-yesterday", new Date(2026, 2, 14, 23, 59)),
      conversation("early-yesterday", new Date(2026, 2, 14, 0, 1)),
      conversation("three-days", at(3)),
      conversation("seven-days", new Date(2026, 2, 8, 0, 0)),
      conversation("eight-days", new Date(2026, 2, 7, 23, 59)),
      conversation("last-year", new Date(2025, 5, 1)),
    ];
    const groups = groupByRecency(list, now);
    expect(groups.map((g) => [g.label, g.items.map((c) => c.id)])).toEqual([
      ["Today", ["now", "this-morning"]],
      ["Yesterday", ["late-yesterday", "early-yesterday"]],
      ["Previous 7 days", ["three-days", "seven-days"]],
      ["Older", ["eight-days", "last-year"]],
    ]);
  });

  it("leaves out empty groups", () => {
    const groups = groupByRecency([conversation("old", at(30))], now);
    expect(groups.map((g) => g.label)).toEqual(["Older"]);
  });

  it("puts activity from the future (clock skew) under Today", () => {
    expect(groupByRecency([conversation("skew", at(-1))], now)[0]!.label).toBe("Today");
  });

  it("answers nothing for nothing", () => {
    expect(groupByRecency([], now)).toEqual([]);
  });
});
