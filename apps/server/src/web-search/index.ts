import { type WebSearchInput, type WebSearchSettings, webSearchInput } from "@cybros/protocol";
import { z } from "zod";
import { settingsOf, updateSettings } from "../accounts/index.js";
import { hasAccountSecret, putAccountSecret, readAccountSecret } from "../accounts/secrets.js";
import type { Account } from "../current.js";
import { ValidationError } from "../errors.js";
import { outboundRequest } from "../outbound/index.js";
import type { Services } from "../services.js";
import { backends, type WebSearchResult } from "./backends.js";

/**
 * Web search through the backend the account chose in System settings (none, SearXNG, Brave, Tavily).
 * API keys are stored sealed in account_secrets; the settings only say whether one is set.
 */

export type { WebSearchResult } from "./backends.js";

export const NOT_CONFIGURED = "web search is not configured: set a backend in System settings";

export const MAX_RESULTS = 10;

export const webSearchQuery = z.object({
  query: z.string().trim().min(1, "must not be empty").max(500),
  limit: z.number().int().min(1).max(MAX_RESULTS).default(5),
});
export type WebSearchQuery = z.input<typeof webSearchQuery>;

/** A search that could not be made or answered; the message is written for the model and the user. */
export class WebSearchError extends Error {}

type KeyedBackend = "brave" | "tavily";

const keyName = (backend: KeyedBackend) => `web_search.${backend}.api_key`;

/** Saves the System settings choice. A keyed backend needs a key, given now or stored before. */
export async function saveWebSearchSettings(
  services: Pick<Services, "db" | "secrets">,
  account: Account,
  input: WebSearchInput,
): Promise<Account> {
  const choice = webSearchInput.parse(input);
  let stored: WebSearchSettings;
  if (choice.backend === "brave" || choice.backend === "tavily") {
    if (choice.apiKey) {
      await putAccountSecret(services, account.id, keyName(choice.backend), choice.apiKey);
    } else if (!(await hasAccountSecret(services, account.id, keyName(choice.backend)))) {
      throw new ValidationError({ "webSearch.apiKey": "is required" });
    }
    stored = { backend: choice.backend, apiKeySet: true };
  } else {
    stored = choice;
  }
  return updateSettings(services.db, account, { webSearch: stored });
}

export async function webSearch(
  services: Pick<Services, "db" | "secrets">,
  account: Account,
  input: WebSearchQuery,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<{ backend: string; results: WebSearchResult[] }> {
  const { query, limit } = webSearchQuery.parse(input);
  const settings = settingsOf(account);
  const choice = settings.webSearch;
  if (choice.backend === "none") throw new WebSearchError(NOT_CONFIGURED);
  const backend = backends[choice.backend];
  let apiKey: string | undefined;
  if (choice.backend === "brave" || choice.backend === "tavily") {
    apiKey = await readAccountSecret(services, account.id, keyName(choice.backend));
    if (!apiKey) throw new WebSearchError(`the ${backend.label} API key is missing: set it in System settings`);
  }
  const request = backend.request(query, limit, { url: choice.backend === "searxng" ? choice.url : undefined, apiKey });
  const response = await outboundRequest(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    // A self-hosted SearXNG on a private address is reached only when the administrator allowlisted it.
    allowlist: settings.webFetchAllowlist,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
  });
  if (response.status !== 200) {
    const hint = backend.hint(response.status);
    throw new WebSearchError(`${backend.label} answered HTTP ${response.status}${hint ? `: ${hint}` : ""}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.body.toString("utf8"));
  } catch {
    throw new WebSearchError(`${backend.label} did not answer JSON`);
  }
  return { backend: backend.label, results: backend.results(json).slice(0, limit) };
}
