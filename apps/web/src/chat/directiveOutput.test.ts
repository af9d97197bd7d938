import { describe, expect, it } from "vitest";
import {
  appendOutput,
  describeEnd,
  emptyDirectiveView,
  HELD_CHARS,
  type OutputChunk,
  setDirectiveState,
  visibleOutput,
} from "./directiveOutput";

const out = (seq: number, text: string): OutputChunk => ({ stream: "stdout", seq, text });
const err = (seq: number, text: string): OutputChunk => ({ stream: "stderr", seq, text });

describe("visibleOutput", () => {
  it("joins adjacent chunks of a stream and keeps the streams apart, in order", () => {
    const { segments, hidden } = visibleOutput([out(0, "a\n"), out(1, "b\n"), err(0, "oops\n"), out(2, "c")]);
    expect(segments).toEqual([
      { stream: "stdout", text: "a\nb\n" },
      { stream: "stderr", text: "oops\n" },
      { stream: "stdout", text: "c" },
    ]);
    expect(hidden).toBe(false);
  });

  it("keeps only the last lines, across chunks, and says earlier output is hidden", () => {
    const chunks = [out(0, "1\n2\n3\n"), err(0, "4\n5\n"), out(1, "6\n")];
    expect(visibleOutput(chunks, 3)).toEqual({
      segments: [
        { stream: "stderr", text: "4\n5\n" },
        { stream: "stdout", text: "6\n" },
      ],
      hidden: true,
    });
    expect(visibleOutput(chunks, 4).segments[0]).toEqual({ stream: "stdout", text: "3\n" });
    // Exactly as many lines as allowed: nothing hidden (the final newline does not start a line).
    expect(visibleOutput(chunks, 6).hidden).toBe(false);
    expect(visibleOutput(chunks, 5).hidden).toBe(true);
  });
});

describe("directive views", () => {
  it("holds a bounded amount of output, counting what it let go", () => {
    let view = emptyDirectiveView("d1");
    const line = `${"x".repeat(999)}\n`;
    for (let seq = 0; seq < 500; seq++) view = appendOutput(view, out(seq, line));
    const held = view.chunks.reduce((n, c) => n + c.text.length, 0);
    expect(held).toBe(HELD_CHARS);
    expect(view.hiddenChars).toBe(500 * 1000 - HELD_CHARS);
    expect(view.chunks.at(-1)!.seq).toBe(499);
  });

  it("describes how it ended", () => {
    const running = setDirectiveState(emptyDirectiveView("d1"), {
      state: "running",
      exitCode: null,
      outputTruncated: false,
    });
    expect(describeEnd(running.state, running.exitCode)).toBeNull();
    const failed = setDirectiveState(running, { state: "failed", exitCode: 2, outputTruncated: true });
    expect(failed).toMatchObject({ state: "failed", exitCode: 2, truncated: true });
    expect(describeEnd(failed.state, failed.exitCode)).toBe("Exit code 2");
    expect(describeEnd("timed_out", 124)).toBe("Timed out");
    expect(describeEnd("canceled", null)).toBe("Canceled");
    // A late `running` does not revive it.
    expect(setDirectiveState(failed, { state: "running", exitCode: null, outputTruncated: false })).toBe(failed);
  });
});
