import { describe, expect, it } from "vitest";
import { PromptCache } from "./prompt-cache.js";

const chars = (segments: string[]) => segments.reduce((n, s) => n + s.length, 0);

function answered(cache: PromptCache, model: string, segments: string[]) {
  const measure = cache.measure(model, segments);
  measure.commit();
  return measure;
}

describe("PromptCache", () => {
  it("counts whole matching segments plus the common start of the first one that differs", () => {
    const cache = new PromptCache();
    answered(cache, "m", ["a".repeat(40), "b".repeat(40), "c".repeat(40)]);
    const measure = cache.measure("m", ["a".repeat(40), "b".repeat(40), `${"c".repeat(20)}XYZ`, "d".repeat(40)]);
    expect(measure.cachedTokens).toBe((40 + 40 + 20) / 4);
    expect(measure.promptTokens).toBe(
      Math.ceil(chars(["a".repeat(40), "b".repeat(40), `${"c".repeat(20)}XYZ`, "d".repeat(40)]) / 4),
    );
  });

  it("finds the longest prefix among several recent prompts, per model, and only once committed", () => {
    const cache = new PromptCache();
    answered(cache, "m", ["sys", "one"]);
    answered(cache, "m", ["sys", "two", "three"]);
    expect(cache.measure("m", ["sys", "two", "three", "four"]).cachedTokens).toBe(Math.floor(11 / 4));
    expect(cache.measure("other", ["sys", "two", "three", "four"]).cachedTokens).toBe(0);
    cache.measure("m", ["uncommitted prompt"]);
    expect(cache.measure("m", ["uncommitted prompt"]).cachedTokens).toBe(0);
  });

  it("forgets the oldest prompts beyond its capacity but keeps prefixes shared with newer ones", () => {
    const cache = new PromptCache(2);
    answered(cache, "m", ["shared", "first only"]);
    answered(cache, "m", ["shared", "second"]);
    answered(cache, "m", ["other"]);
    // "first only" was evicted; "shared" survives through the second prompt.
    expect(cache.measure("m", ["shared", "first only"]).cachedTokens).toBe(Math.floor("shared".length / 4));
    answered(cache, "m", ["x"]);
    answered(cache, "m", ["y"]);
    expect(cache.measure("m", ["shared", "second"]).cachedTokens).toBe(0);
  });

  it("handles a 10,000-message conversation growing turn by turn", () => {
    const cache = new PromptCache();
    const messages = Array.from({ length: 10_000 }, (_, i) =>
      JSON.stringify({ role: i % 2 ? "assistant" : "user", content: `message ${i} `.repeat(10) }),
    );
    const first = answered(cache, "m", messages);
    expect(first.cachedTokens).toBe(0);
    const next = [...messages, JSON.stringify({ role: "user", content: "one more" })];
    const second = answered(cache, "m", next);
    expect(second.cachedTokens).toBe(Math.floor(chars(messages) / 4));
    expect(second.promptTokens).toBe(Math.ceil(chars(next) / 4));
  });
});
