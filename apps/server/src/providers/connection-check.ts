import type { ConnectionCheck } from "@cybros/protocol";
import type { Account } from "../current.js";
import { AppError } from "../errors.js";
import { completeOnce, LlmError } from "../llm/index.js";
import type { Services } from "../services.js";
import { reachableBaseUrl } from "./base-url.js";
import { apiKeyOf, findProvider, headersOf, type LlmProvider, recordConnectionCheck } from "./index.js";

/**
 * Test connection: asks the provider for one token of its first allowed model and records when and how that
 * went, so the settings list can show it without asking again. A failing provider is a result, not an error.
 */
export async function checkConnection(
  services: Services,
  account: Account,
  id: string,
  options: { timeoutMs?: number } = {},
): Promise<{ check: ConnectionCheck; provider: LlmProvider }> {
  const provider = await findProvider(services.db, account, id);
  const model = provider.modelAllowlist[0]!;
  let result: { ok: boolean; message: string };
  try {
    const { latencyMs } = await completeOnce({
      provider: {
        baseUrl: reachableBaseUrl(services, provider.baseUrl),
        apiKey: apiKeyOf(services, provider),
        headers: headersOf(services, provider),
      },
      model,
      timeoutMs: options.timeoutMs,
    });
    result = { ok: true, message: `${model} answered in ${latencyMs} ms` };
  } catch (error) {
    // LlmError messages are already worded for people, with the key redacted.
    if (!(error instanceof LlmError || error instanceof AppError)) throw error;
    result = { ok: false, message: `${model}: ${error.message}` };
  }
  const saved = await recordConnectionCheck(services.db, provider, result);
  return { check: { ...result, checkedAt: saved.lastCheckedAt!.toISOString() }, provider: saved };
}
