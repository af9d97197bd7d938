import { describe, expect, it } from "vitest";
import { type Indicator, type IndicatorInput, idleIndicator, nextIndicator } from "./indicator";

const thresholds = { silentMs: 10_000, stalledMs: 30_000 };
const run = (inputs: IndicatorInput[], from: Indicator = idleIndicator) =>
  inputs.reduce((state, input) => nextIndicator(state, input, thresholds), from);
const step = (state: Indicator, input: IndicatorInput) => nextIndicator(state, input, thresholds);

describe("indicator state machine", () => {
  it("goes idle → queued → streaming → completed", () => {
    const queued = run([{ type: "queued", at: 0 }]);
    expect(queued.phase).toBe("queued");
    const streaming = step(queued, { type: "started", at: 1 });
    expect(streaming).toEqual({ phase: "streaming", stuck: null, lastSignalAt: 1, lastProgressAt: 1, waiting: null });
    expect(step(streaming, { type: "succeeded", at: 2 }).phase).toBe("completed");
  });

  it("ends errored or canceled, and a terminal phase is final", () => {
    const errored = run([
      { type: "started", at: 0 },
      { type: "failed", at: 1 },
    ]);
    expect(errored.phase).toBe("errored");
    const inputs = ["started", "progress", "heartbeat", "succeeded", "canceled", "queued", "tick"] as const;
    for (const type of inputs) expect(step(errored, { type, at: 99_000 })).toBe(errored);
    expect(
      run([
        { type: "queued", at: 0 },
        { type: "canceled", at: 1 },
      ]).phase,
    ).toBe("canceled");
  });

  it("starts streaming on the first sign of progress even if run_started comes late", () => {
    const state = run([
      { type: "queued", at: 0 },
      { type: "progress", at: 5 },
      { type: "started", at: 6 },
    ]);
    expect(state).toEqual({ phase: "streaming", stuck: null, lastSignalAt: 5, lastProgressAt: 5, waiting: null });
  });

  it("turns stuck (silent) after total silence while streaming, never while queued", () => {
    const streaming = run([{ type: "started", at: 0 }]);
    expect(step(streaming, { type: "tick", at: 9_999 })).toBe(streaming);
    expect(step(streaming, { type: "tick", at: 10_000 }).stuck).toBe("silent");
    const queued = run([{ type: "queued", at: 0 }]);
    expect(step(queued, { type: "tick", at: 600_000 })).toBe(queued);
  });

  it("turns stuck (stalled) when heartbeats come but no text does, as with a hanging model", () => {
    let state = run([{ type: "started", at: 0 }]);
    for (let at = 5_000; at <= 30_000; at += 5_000) {
      state = step(state, { type: "heartbeat", at });
      state = step(state, { type: "tick", at });
    }
    expect(state.stuck).toBe("stalled");
    expect(step(state, { type: "heartbeat", at: 35_000 }).stuck).toBe("stalled");
    expect(step(state, { type: "progress", at: 36_000 }).stuck).toBeNull();
  });

  it("recovers from silence on a heartbeat or progress, and can still end", () => {
    const silent = run([
      { type: "started", at: 0 },
      { type: "tick", at: 20_000 },
    ]);
    expect(silent.stuck).toBe("silent");
    expect(step(silent, { type: "heartbeat", at: 21_000 }).stuck).toBeNull();
    expect(step(silent, { type: "progress", at: 21_000 })).toEqual({
      phase: "streaming",
      stuck: null,
      lastSignalAt: 21_000,
      lastProgressAt: 21_000,
      waiting: null,
    });
    expect(step(silent, { type: "canceled", at: 22_000 })).toMatchObject({ phase: "canceled", stuck: null });
  });

  it("waits without ever turning stuck, through heartbeats and a resync's run summary, until the run continues", () => {
    const waiting = run([
      { type: "started", at: 0 },
      { type: "tick", at: 9_000 },
      { type: "waiting", at: 9_500, waiting: { for: "approval" } },
    ]);
    expect(waiting).toMatchObject({ phase: "streaming", stuck: null, waiting: { for: "approval" } });
    // Minutes of silence (a person thinking, a long build): still waiting, never stuck.
    let state = waiting;
    for (const input of [
      { type: "tick", at: 600_000 },
      { type: "heartbeat", at: 600_100 },
      { type: "started", at: 600_200 },
      { type: "tick", at: 1_200_000 },
    ] as const) {
      state = step(state, input);
    }
    expect(state).toMatchObject({ stuck: null, waiting: { for: "approval" } });
    // The run continues: the stuck timers run from here again.
    const resumed = step(state, { type: "resumed", at: 1_200_000 });
    expect(resumed).toMatchObject({ phase: "streaming", waiting: null, lastProgressAt: 1_200_000 });
    expect(step(resumed, { type: "tick", at: 1_210_000 }).stuck).toBe("silent");
  });

  it("clears a stuck warning when the run starts waiting, and a text chunk or the run's end ends the wait", () => {
    const stuck = run([
      { type: "started", at: 0 },
      { type: "tick", at: 10_000 },
    ]);
    expect(stuck.stuck).toBe("silent");
    const waiting = step(stuck, { type: "waiting", at: 11_000, waiting: { for: "directive", territory: "laptop" } });
    expect(waiting).toMatchObject({ stuck: null, waiting: { for: "directive", territory: "laptop" } });
    expect(step(waiting, { type: "progress", at: 12_000 }).waiting).toBeNull();
    expect(step(waiting, { type: "canceled", at: 12_000 })).toMatchObject({ phase: "canceled", waiting: null });
    // The same wait again changes nothing; another one replaces it.
    expect(step(waiting, { type: "waiting", at: 13_000, waiting: { for: "directive", territory: "laptop" } })).toBe(
      waiting,
    );
    expect(step(waiting, { type: "waiting", at: 13_000, waiting: { for: "approval" } }).waiting).toEqual({
      for: "approval",
    });
  });
});
