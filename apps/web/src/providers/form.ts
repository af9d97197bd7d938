import {
  type ProviderCreateInput,
  type ProviderUpdateInput,
  type ProviderView,
  providerBaseUrl,
} from "@cybros/protocol";

/** What the provider form edits; text fields stay text until submit so nothing the user typed is lost. */
export type ProviderFormValues = {
  name: string;
  baseUrl: string;
  /** Empty = keep the stored key (editing) or none (new). */
  apiKey: string;
  /** Editing only: remove the stored key. */
  clearApiKey: boolean;
  /** JSON text of the headers to send; saved values are never shown, so editing starts empty. */
  headers: string;
  /** Editing only: the saved headers are being replaced by `headers`. */
  replaceHeaders: boolean;
  modelAllowlist: string[];
  /** Allowed models that accept images; saved as those the allowlist still lists. */
  imageModels: string[];
  priority: string;
  enabled: boolean;
};

export const FORM_FIELDS = [
  "name",
  "baseUrl",
  "apiKey",
  "headers",
  "modelAllowlist",
  "imageModels",
  "priority",
  "enabled",
] as const;

export function initialValues(provider: ProviderView | null): ProviderFormValues {
  if (!provider) {
    return {
      name: "",
      baseUrl: "",
      apiKey: "",
      clearApiKey: false,
      headers: "",
      replaceHeaders: false,
      modelAllowlist: [],
      imageModels: [],
      priority: "0",
      enabled: true,
    };
  }
  return {
    name: provider.name,
    baseUrl: provider.baseUrl,
    apiKey: "",
    clearApiKey: false,
    headers: "",
    replaceHeaders: false,
    modelAllowlist: provider.modelAllowlist,
    imageModels: provider.imageModels,
    priority: String(provider.priority),
    enabled: provider.enabled,
  };
}

/** The form's base URL differs from the saved one (compared as the server stores it, trailing slash dropped). */
export function baseUrlChanged(values: ProviderFormValues, provider: ProviderView | null): boolean {
  if (!provider) return false;
  const parsed = providerBaseUrl.safeParse(values.baseUrl);
  return (parsed.success ? parsed.data : values.baseUrl.trim()) !== provider.baseUrl;
}

/**
 * The saved key must be typed again: the server sends a saved key only to the base URL it was saved with.
 * (Not when removing the key or typing a new one anyway.)
 */
export function apiKeyNeedsRetyping(values: ProviderFormValues, provider: ProviderView | null): boolean {
  return Boolean(provider?.apiKeySet) && !values.clearApiKey && baseUrlChanged(values, provider);
}

/** The headers textarea is in use: a new provider, none saved, replacing them, or a new base URL needing them. */
export function headersEditable(values: ProviderFormValues, provider: ProviderView | null): boolean {
  return !provider || provider.headersSet.length === 0 || values.replaceHeaders || baseUrlChanged(values, provider);
}

/**
 * The request body. Headers go as the textarea's text when it is in use (the server parses it and answers a 422
 * on bad JSON; omitted keeps the saved ones), the key only when typed or cleared, the priority as a number when it
 * is one (else as typed, for the server to reject with a message).
 */
export function toInput(
  values: ProviderFormValues,
  provider: ProviderView | null,
): ProviderCreateInput | ProviderUpdateInput {
  const editing = provider !== null;
  const priorityText = values.priority.trim();
  const priorityNumber = Number(priorityText);
  const input: Record<string, unknown> = {
    name: values.name,
    baseUrl: values.baseUrl,
    modelAllowlist: values.modelAllowlist,
    imageModels: values.imageModels.filter((model) => values.modelAllowlist.includes(model)),
    priority: priorityText === "" ? 0 : Number.isFinite(priorityNumber) ? priorityNumber : priorityText,
    enabled: values.enabled,
  };
  // Left blank after a base URL change, the saved headers are omitted so the server asks for them again.
  if (!provider || provider.headersSet.length === 0 || values.replaceHeaders || values.headers.trim())
    input.headers = values.headers;
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
