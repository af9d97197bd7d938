import type { ProviderCreateInput, ProviderUpdateInput, ProviderView } from "@cybros/protocol";

/** What the provider form edits; text fields stay text until submit so nothing the user typed is lost. */
export type ProviderFormValues = {
  name: string;
  baseUrl: string;
  /** Empty = keep the stored key (editing) or none (new). */
  apiKey: string;
  /** Editing only: remove the stored key. */
  clearApiKey: boolean;
  headers: string;
  modelAllowlist: string[];
  priority: string;
  enabled: boolean;
};

export const FORM_FIELDS = ["name", "baseUrl", "apiKey", "headers", "modelAllowlist", "priority", "enabled"] as const;

export function initialValues(provider: ProviderView | null): ProviderFormValues {
  if (!provider) {
    return {
      name: "",
      baseUrl: "",
      apiKey: "",
      clearApiKey: false,
      headers: "",
      modelAllowlist: [],
      priority: "0",
      enabled: true,
    };
  }
  return {
    name: provider.name,
    baseUrl: provider.baseUrl,
    apiKey: "",
    clearApiKey: false,
    headers: Object.keys(provider.headers).length ? JSON.stringify(provider.headers, null, 2) : "",
    modelAllowlist: provider.modelAllowlist,
    priority: String(provider.priority),
    enabled: provider.enabled,
  };
}

/**
 * The request body. Headers go as the textarea's text (the server parses it and answers a 422 on bad JSON), the
 * key only when typed or cleared, the priority as a number when it is one (else as typed, for the server to
 * reject with a message).
 */
export function toInput(values: ProviderFormValues, editing: boolean): ProviderCreateInput | ProviderUpdateInput {
  const priorityText = values.priority.trim();
  const priorityNumber = Number(priorityText);
  const input: Record<string, unknown> = {
    name: values.name,
    baseUrl: values.baseUrl,
    headers: values.headers,
    modelAllowlist: values.modelAllowlist,
    priority: priorityText === "" ? 0 : Number.isFinite(priorityNumber) ? priorityNumber : priorityText,
    enabled: values.enabled,
  };
  if (values.apiKey.trim()) input.apiKey = values.apiKey;
  else if (editing && values.clearApiKey) input.apiKey = null;
  else if (!editing) input.apiKey = null;
  return input as ProviderCreateInput;
}

/**
 * Folds the server's 422 `fields` onto the form's controls: `headers.X-Foo: must be a string` shows under the
 * headers field as `Header "X-Foo" must be a string`; nested allowlist messages show under the allowlist.
 */
export function formFieldErrors(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, message] of Object.entries(fields)) {
    const [root, ...rest] = key.split(".");
    if (root === "headers" && rest.length) {
      out.headers ??= `Header “${rest.join(".")}” ${message}`;
    } else if (root && (FORM_FIELDS as readonly string[]).includes(root)) {
      out[root] ??= message;
    } else {
      const text = key === "_" ? message : `${key} ${message}`;
      out._ = out._ ? `${out._}; ${text}` : text;
    }
  }
  return out;
}

/**
 * What a provider's list row says about its key. Local servers (LM Studio, vLLM, Ollama, the built-in mock) run
 * without one, so a missing key there is normal, not something to fix.
 */
export function keyStatus(provider: Pick<ProviderView, "apiKeySet" | "baseUrl">): {
  tone: "success" | "neutral";
  label: string;
} {
  if (provider.apiKeySet) return { tone: "success", label: "API key set" };
  return { tone: "neutral", label: isLocalAddress(provider.baseUrl) ? "Local · no key needed" : "No API key" };
}

/** This server's own paths, loopback, private networks and .local names. */
export function isLocalAddress(baseUrl: string): boolean {
  if (baseUrl.startsWith("/")) return true;
  let host: string;
  try {
    host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return false;
  }
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host.endsWith(".local") ||
    host === "host.docker.internal" ||
    host === "::1" ||
    host === "0.0.0.0" ||
    /^127\./.test(host) ||
    /^10\./.test(host) ||
    /^192\.168\./.test(host) ||
    /^172\.(1[6-9]|2\d|3[01])\./.test(host)
  );
}
