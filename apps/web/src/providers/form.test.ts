import { describe, expect, it } from "vitest";
import { formFieldErrors, initialValues, keyStatus, toInput } from "./form";

describe("provider form", () => {
  it("shows a header's own error under the headers field", () => {
    expect(formFieldErrors({ "headers.X-Foo": "must be a string", name: "is required" })).toEqual({
      headers: "Header “X-Foo” must be a string",
      name: "is required",
    });
  });

  it("keeps fields it has no control for as a form-level message", () => {
    expect(formFieldErrors({ apiFormat: "must be openai", weird: "is odd" })).toEqual({
      _: "apiFormat must be openai; weird is odd",
    });
  });

  it("sends headers as typed, so the server can report bad JSON", () => {
    const input = toInput({ ...initialValues(null), headers: "{not json" }, false) as Record<string, unknown>;
    expect(input.headers).toBe("{not json");
  });

  it("keeps the stored key unless one is typed or removal is asked for", () => {
    const base = { ...initialValues(null), name: "p" };
    expect("apiKey" in (toInput(base, true) as object)).toBe(false);
    expect((toInput({ ...base, clearApiKey: true }, true) as Record<string, unknown>).apiKey).toBeNull();
    expect((toInput({ ...base, apiKey: "sk-1" }, true) as Record<string, unknown>).apiKey).toBe("sk-1");
    expect((toInput(base, false) as Record<string, unknown>).apiKey).toBeNull();
  });

  it("sends the priority as a number, or as typed when it is not one", () => {
    expect((toInput({ ...initialValues(null), priority: "5" }, false) as Record<string, unknown>).priority).toBe(5);
    expect((toInput({ ...initialValues(null), priority: "" }, false) as Record<string, unknown>).priority).toBe(0);
    expect((toInput({ ...initialValues(null), priority: "high" }, false) as Record<string, unknown>).priority).toBe(
      "high",
    );
  });
});

describe("a provider's key status", () => {
  it("is normal for a key-less local server, and says so only as a fact for a remote one", () => {
    for (const baseUrl of [
      "/mock_llm/v1",
      "http://localhost:1234/v1",
      "http://127.0.0.1:8000/v1",
      "http://[::1]:11434/v1",
      "http://192.168.1.20:8080/v1",
      "http://gpu-box.local:8000/v1",
    ]) {
      expect(keyStatus({ apiKeySet: false, baseUrl }), baseUrl).toEqual({
        tone: "neutral",
        label: "Local · no key needed",
      });
    }
    expect(keyStatus({ apiKeySet: false, baseUrl: "https://api.openai.com/v1" }).label).toBe("No API key");
    expect(keyStatus({ apiKeySet: true, baseUrl: "https://api.openai.com/v1" })).toEqual({
      tone: "success",
      label: "API key set",
    });
  });
});
