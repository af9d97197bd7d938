import type { AccountSettings, AccountSettingsInput } from "@cybros/protocol";

export type WebSearchBackend = AccountSettings["webSearch"]["backend"];

/** The account settings form's state; text stays text until submit. */
export type AccountFormValues = {
  defaultModel: string;
  embeddingModel: string;
  backend: WebSearchBackend;
  searxngUrl: string;
  /** Write-only: empty keeps the stored key. */
  apiKey: string;
  /** One host per line. */
  webFetchAllowlist: string;
  features: Record<string, boolean>;
};

export function accountFormValues(settings: AccountSettings): AccountFormValues {
  return {
    defaultModel: settings.defaultModel ?? "",
    embeddingModel: settings.embeddingModel ?? "",
    backend: settings.webSearch.backend,
    searxngUrl: settings.webSearch.backend === "searxng" ? settings.webSearch.url : "",
    apiKey: "",
    webFetchAllowlist: settings.webFetchAllowlist.join("\n"),
    features: { ...settings.features },
  };
}

export function accountSettingsInputOf(values: AccountFormValues): AccountSettingsInput {
  const webSearch: AccountSettingsInput["webSearch"] =
    values.backend === "searxng"
      ? { backend: "searxng", url: values.searxngUrl.trim() }
      : values.backend === "brave" || values.backend === "tavily"
        ? { backend: values.backend, ...(values.apiKey.trim() ? { apiKey: values.apiKey.trim() } : {}) }
        : { backend: "none" };
  return {
    defaultModel: values.defaultModel.trim() || null,
    embeddingModel: values.embeddingModel.trim() || null,
    webSearch,
    webFetchAllowlist: values.webFetchAllowlist
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean),
    features: values.features,
  };
}

/** Server field paths → the form's controls ("webSearch.url" → searxngUrl, "webFetchAllowlist.2" → that list). */
export function accountFieldErrors(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, message] of Object.entries(fields)) {
    const [root, sub] = key.split(".");
    if (root === "webSearch") out[sub === "apiKey" ? "apiKey" : sub === "url" ? "searxngUrl" : "backend"] ??= message;
    else if (root === "webFetchAllowlist")
      out.webFetchAllowlist ??= sub ? `line ${Number(sub) + 1} ${message}` : message;
    else if (root === "features") out.features ??= sub ? `“${sub}” ${message}` : message;
    else if (root === "defaultModel" || root === "embeddingModel") out[root] ??= message;
    else out._ = out._ ? `${out._}; ${key} ${message}` : `${key} ${message}`;
  }
  return out;
}
