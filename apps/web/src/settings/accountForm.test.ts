import { describe, expect, it } from "vitest";
import { accountFieldErrors, accountFormValues, accountSettingsInputOf } from "./accountForm";

const defaults = {
  defaultModel: null,
  embeddingModel: null,
  webSearch: { backend: "none" as const },
  webFetchAllowlist: [],
  features: {},
};

describe("account settings form", () => {
  it("round-trips the stored settings", () => {
    const values = accountFormValues({ ...defaults, defaultModel: "m", webFetchAllowlist: ["a", "b:8080"] });
    expect(values.webFetchAllowlist).toBe("a\nb:8080");
    expect(accountSettingsInputOf(values)).toEqual({
      defaultModel: "m",
      embeddingModel: null,
      webSearch: { backend: "none" },
      webFetchAllowlist: ["a", "b:8080"],
      features: {},
    });
  });

  it("sends a web search key only when one is typed", () => {
    const values = accountFormValues({ ...defaults, webSearch: { backend: "brave", apiKeySet: true } });
    expect(accountSettingsInputOf(values).webSearch).toEqual({ backend: "brave" });
    expect(accountSettingsInputOf({ ...values, apiKey: " k " }).webSearch).toEqual({ backend: "brave", apiKey: "k" });
    expect(accountSettingsInputOf({ ...values, backend: "searxng", searxngUrl: "http://s" }).webSearch).toEqual({
      backend: "searxng",
      url: "http://s",
    });
  });

  it("puts server field errors under the right controls", () => {
    expect(
      accountFieldErrors({
        "webSearch.url": "must be an http(s) URL",
        "webSearch.apiKey": "is required",
        "webFetchAllowlist.1": "must not be empty",
        defaultModel: "must not be empty",
      }),
    ).toEqual({
      searxngUrl: "must be an http(s) URL",
      apiKey: "is required",
      webFetchAllowlist: "line 2 must not be empty",
      defaultModel: "must not be empty",
    });
  });
});
