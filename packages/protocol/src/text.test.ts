import { describe, expect, it } from "vitest";
import { storableText, toStorableJson, toStorableText } from "./text.js";

describe("storable text", () => {
  it("refuses NUL and unpaired surrogates, accepts paired ones", () => {
    const schema = storableText();
    expect(schema.safeParse("a\u0000b").success).toBe(false);
    expect(schema.safeParse("a\ud800b").success).toBe(false);
    expect(schema.safeParse("a\udc00").success).toBe(false);
    expect(schema.safeParse("emoji 🚀 and é").success).toBe(true);
  });

  it("repairs text from outside: NUL removed, lone surrogates replaced, pairs kept", () => {
    expect(toStorableText("a\u0000b\ud800c\udc00🚀")).toBe("ab\ufffdc\ufffd🚀");
    const clean = "plain";
    expect(toStorableText(clean)).toBe(clean);
  });

  it("repairs every string of a JSON value, keys included, and keeps clean values as they are", () => {
    const clean = { q: "x", list: [1, "y", null] };
    expect(toStorableJson(clean)).toBe(clean);
    expect(toStorableJson({ "k\u0000": ["a\u0000", { deep: "\ud800" }], n: 1 })).toEqual({
      k: ["a", { deep: "\ufffd" }],
      n: 1,
    });
  });
});
