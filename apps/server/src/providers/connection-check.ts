import type { ConnectionCheck } from "@cybros/protocol";
import type { Account } from "../current.js";
import type { Services } from "../services.js";
import { reachableBaseUrl } from "./base-url.js";
import { apiKeyOf, findProvider, type LlmProvider, recordConnectionCheck } from "./index.js";
import { type ProviderTarget, requestHeaders } from "./model-listing.js";

const CHECK_TIMEOUT_MS = 30_000;

/** A one-token completion; resolves when the provider answered, throws with a readable message otherwise. */
export type OneTokenCompletion = (target: ProviderTarget, model: string, signal: AbortSignal) => Promise<void>;

/**
 * Test connection: asks the provider for one token of its first allowed model and records when and how that
 * went, so the settings list can show it without asking again.
 */
export async function checkConnection(
  services: Services,
  account: Account,
  id: string,
  complete: OneTokenCompletion = pingCompletion,
): Promise<{ check: ConnectionCheck; provider: LlmProvider }> {
  const provider = await findProvider(services.db, account, id);
  const model = provider.modelAllowlist[0]!;
  const started = performance.now();
  let result: { ok: boolean; message: string };
  let target: ProviderTarget | undefined;
  try {
    target = {
      baseUrl: reachableBaseUrl(services, provider.baseUrl),
      apiKey: apiKeyOf(services, provider),
      headers: provider.headers,
    };
    await complete(target, model, AbortSignal.timeout(CHECK_TIMEOUT_MS));
    result = { ok: true, message: `${model} answered in ${Math.round(performance.now() - started)} ms` };
  } catch (error) {
    result = { ok: false, message: redactKey(`${model}: ${(error as Error).message}`, target?.apiKey) };
  }
  const saved = await recordConnectionCheck(services.db, provider, result);
  return { check: { ...result, checkedAt: saved.lastCheckedAt!.toISOString() }, provider: saved };
}

function redactKey(message: string, key: string | null | undefined): string {
  return key ? message.split(key).join("[redacted]") : message;
}

// Stand-in until the LLM client's completeOnce lands; same request, no retries.
const pingCompletion: OneTokenCompletion = async (target, model, signal) => {
  const headers = requestHeaders(target);
  headers.set("content-type", "application/json");
  const response = await fetch(`${target.baseUrl}/chat/completions`, {
    method: "POST",
    headers,
    signal,
    body: JSON.stringify({ model, messages: [{ role: "user", content: "ping" }], max_tokens: 1, stream: false }),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
  await response.json();
};
