import type { ProviderView } from "@cybros/protocol";
import { describe, expect, it } from "vitest";
import { apiKeyNeedsRetyping, formFieldErrors, headersEditable, initialValues, keyStatus, toInput } from "./form";

const saved: ProviderView = {
  id: "p1",
  name: "Saved",
  baseUrl: "https://api.example.com/v1",
  apiFormat: "openai",
  apiKeySet: true,
  headersSet: ["X-Api-Key"],
  modelAllowlist: ["m", "v"],
  imageModels: ["v"],
  priority: 0,
  enabled: true,
  lastCheck: null,
  createdAt: "",
  updatedAt: "",
};

describe("provider form", () => {
  it("sends the image models the allowlist still lists", () => {
    const values = initialValues(saved);
    expect(values.imageModels).toEqual(["v"]);
    expect((toInput(values, saved) as Record<string, unknown>).imageModels).toEqual(["v"]);
    const dropped = { ...values, modelAllowlist: ["m"] };
    expect((toInput(dropped, saved) as Record<string, unknown>).imageModels).toEqual([]);
  });

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
    const input = toInput({ ...initialValues(null), headers: "{not json" }, null) as Record<string, unknown>;
    expect(input.headers).toBe("{not json");
  });

  it("keeps the stored key unless one is typed or removal is asked for", () => {
    const base = initialValues(saved);
    expect("apiKey" in (toInput(base, saved) as object)).toBe(false);
    expect((toInput({ ...base, clearApiKey: true }, saved) as Record<string, unknown>).apiKey).toBeNull();
    expect((toInput({ ...base, apiKey: "sk-1" }, saved) as Record<string, unknown>).apiKey).toBe("sk-1");
    expect((toInput(initialValues(null), null) as Record<string, unknown>).apiKey).toBeNull();
  });

  it("sends the priority as a number, or as typed when it is not one", () => {
    expect((toInput({ ...initialValues(null), priority: "5" }, null) as Record<string, unknown>).priority).toBe(5);
    expect((toInput({ ...initialValues(null), priority: "" }, null) as Record<string, unknown>).priority).toBe(0);
    expect((toInput({ ...initialValues(null), priority: "high" }, null) as Record<string, unknown>).priority).toBe(
      "high",
    );
  });

  it("keeps the saved headers unless they are replaced, and never shows their values", () => {
    const base = initialValues(saved);
    expect(base.headers).toBe("");
    expect(headersEditable(base, saved)).toBe(false);
    expect("headers" in (toInput(base, saved) as object)).toBe(false);
    const replacing = { ...base, replaceHeaders: true, headers: '{"X-Api-Key": "new"}' };
    expect((toInput(replacing, saved) as Record<string, unknown>).headers).toBe('{"X-Api-Key": "new"}');
  });

  it("asks for the key and headers again when the base URL changes, not for a trailing slash", () => {
    const base = initialValues(saved);
    expect(apiKeyNeedsRetyping({ ...base, baseUrl: "https://api.example.com/v1/" }, saved)).toBe(false);
    const moved = { ...base, baseUrl: "https://other.example.com/v1" };
    expect(apiKeyNeedsRetyping(moved, saved)).toBe(true);
    expect(apiKeyNeedsRetyping({ ...moved, clearApiKey: true }, saved)).toBe(false);
    expect(headersEditable(moved, saved)).toBe(true);
    expect("headers" in (toInput(moved, saved) as object)).toBe(false);
    expect((toInput({ ...moved, headers: "{}" }, saved) as Record<string, unknown>).headers).toBe("{}");
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
