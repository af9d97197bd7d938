import { PromptCache } from "./prompt-cache.js";
import { type ChatRequestBody, contentText, lastUserIndex, type RequestMessage } from "./replies.js";
import {
  DirectiveError,
  type MockStep,
  mockStep,
  parseDirective,
  type ScenarioInput,
  scenarioInput,
  splitDirective,
} from "./steps.js";
import type { StreamOutcome } from "./stream.js";

export { mockLlmInspectionRoutes, mockLlmRoutes } from "./routes.js";
export { type ServedMockLlm, serveMockLlm } from "./serve.js";
export type { MockStep, ScenarioInput } from "./steps.js";

/** Models GET /models lists; any model name is accepted by chat/completions. */
export const MOCK_MODELS = ["mock-model", "mock-model-2", "mock-model-large", "mock-embedding"] as const;

/** One chat request the mock received, kept so tests can assert on exactly what was sent. */
export interface MockRequestRecord {
  id: number;
  /**
   * When the request arrived, before its body was read: epoch milliseconds with a fraction, on the clock the
   * stamps use (performance.timeOrigin + now).
   */
  receivedAt: number;
  model: string;
  stream: boolean;
  messages: RequestMessage[];
  tools: unknown[];
  /** The whole request body as parsed. */
  body: ChatRequestBody;
  /** The body's size as received: what the log's byte budget counts. */
  bytes: number;
  /** Request headers, lower-cased (in-process only; GET /requests leaves them out). */
  headers: Record<string, string>;
  directive: string | null;
  scenario: string | null;
  step: MockStep | null;
  promptTokens: number;
  cachedTokens: number;
  status: number | null;
  /** Reply chunks (content or tool-call fragments) sent so far. */
  chunksSent: number;
  outcome: StreamOutcome | "responded" | null;
  /** Resolves when the exchange is over: answered, completed, closed by the client, or cut by the mock. */
  finished: Promise<StreamOutcome | "responded">;
  respond(status: number): void;
  end(outcome: StreamOutcome): void;
}

export interface MockLlmOptions {
  /** How many bytes of recent request bodies GET /requests and `requests()` keep (the newest is always kept). */
  requestLogBytes?: number;
  /** How many recent prompts the prompt-cache simulation remembers (all models together). */
  promptCacheSize?: number;
}

interface Scenario {
  steps: MockStep[];
  next: number;
}

const MAX_COUNTERS = 10_000;
const DEFAULT_REQUEST_LOG_BYTES = 16 * 1024 * 1024;

/**
 * The state behind one mock endpoint: scenario registry, `times=` counters, the recent-request log and the
 * simulated prompt cache. One per server; tests reach it in-process (`services.mockLlm`) or over HTTP.
 */
export class MockLlm {
  readonly promptCache: PromptCache;
  private readonly log: MockRequestRecord[] = [];
  private readonly logBudget: number;
  private logBytes = 0;
  private readonly scenarios = new Map<string, Scenario>();
  private readonly counters = new Map<string, number>();
  private readonly waiters = new Set<{
    match: (r: MockRequestRecord) => boolean;
    resolve: (r: MockRequestRecord) => void;
  }>();
  private nextId = 1;

  constructor(options: MockLlmOptions = {}) {
    this.logBudget = options.requestLogBytes ?? DEFAULT_REQUEST_LOG_BYTES;
    this.promptCache = new PromptCache(options.promptCacheSize ?? 256);
  }

  /** Registers (or replaces, restarting it) a named scenario: its steps answer successive requests. */
  defineScenario(input: ScenarioInput): { name: string; steps: number } {
    const { name, steps } = scenarioInput.parse(input);
    if (steps.some((s) => s.reply === "scenario")) throw new DirectiveError("a scenario step cannot name a scenario");
    this.scenarios.set(name, { steps, next: 0 });
    return { name, steps: steps.length };
  }

  removeScenario(name: string): boolean {
    return this.scenarios.delete(name);
  }

  scenarioNames(): string[] {
    return [...this.scenarios.keys()];
  }

  /** Recent requests, oldest first. */
  requests(): MockRequestRecord[] {
    return [...this.log];
  }

  lastRequest(): MockRequestRecord | undefined {
    return this.log.at(-1);
  }

  /** Resolves with the next request received that matches (an event to await instead of polling). */
  waitForRequest(match: (record: MockRequestRecord) => boolean = () => true): Promise<MockRequestRecord> {
    return new Promise((resolve) => this.waiters.add({ match, resolve }));
  }

  /** Forgets requests, scenarios, counters and cached prompts. */
  reset(): void {
    this.clearRequests();
    this.scenarios.clear();
    this.counters.clear();
    this.promptCache.clear();
  }

  clearRequests(): void {
    this.log.length = 0;
    this.logBytes = 0;
  }

  /** The body bytes the request log holds now. */
  requestLogBytes(): number {
    return this.logBytes;
  }

  /** The step for a request: its directive, its scenario's next step, or the default echo. */
  resolveStep(request: ChatRequestBody): {
    step: MockStep;
    body: string;
    directive: string | null;
    scenario: string | null;
  } {
    const userIndex = lastUserIndex(request.messages);
    const text = userIndex === -1 ? "" : contentText(request.messages[userIndex]!.content);
    const { line, body } = splitDirective(text);
    let step = line ? parseDirective(line, body) : mockStep.parse({});
    let scenario: string | null = null;
    if (step.reply === "scenario") {
      if (!step.name) throw new DirectiveError("scenario: name= is required");
      scenario = step.name;
      step = this.nextScenarioStep(step.name);
    }
    if (step.times !== undefined) {
      const key = step.key ?? `${request.model}\n${scenario ?? ""}\n${text}`;
      const used = this.counters.get(key) ?? 0;
      if (used >= step.times) step = mockStep.parse({});
      else {
        if (this.counters.size >= MAX_COUNTERS) this.counters.clear();
        this.counters.set(key, used + 1);
      }
    }
    return { step, body, directive: line, scenario };
  }

  /** @internal Called by the chat route for every request, before it is answered. */
  record(
    request: ChatRequestBody,
    headers: Record<string, string>,
    usage: { promptTokens: number; cachedTokens: number },
    bytes: number,
    receivedAt = performance.timeOrigin + performance.now(),
  ): MockRequestRecord {
    let finish!: (outcome: StreamOutcome | "responded") => void;
    const finished = new Promise<StreamOutcome | "responded">((resolve) => {
      finish = resolve;
    });
    const record: MockRequestRecord = {
      id: this.nextId++,
      receivedAt,
      model: request.model,
      stream: Boolean(request.stream),
      messages: request.messages,
      tools: request.tools ?? [],
      body: request,
      bytes,
      headers,
      directive: null,
      scenario: null,
      step: null,
      promptTokens: usage.promptTokens,
      cachedTokens: usage.cachedTokens,
      status: null,
      chunksSent: 0,
      outcome: null,
      finished,
      respond(status) {
        record.status = status;
        record.outcome = "responded";
        finish("responded");
      },
      end(outcome) {
        if (record.outcome) return;
        record.outcome = outcome;
        finish(outcome);
      },
    };
    this.log.push(record);
    this.logBytes += bytes;
    while (this.logBytes > this.logBudget && this.log.length > 1) this.logBytes -= this.log.shift()!.bytes;
    for (const waiter of this.waiters) {
      if (!waiter.match(record)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(record);
    }
    return record;
  }

  private nextScenarioStep(name: string): MockStep {
    const scenario = this.scenarios.get(name);
    if (!scenario) throw new DirectiveError(`no scenario named "${name}"`);
    // After the last step, the last step repeats.
    const step = scenario.steps[Math.min(scenario.next, scenario.steps.length - 1)]!;
    scenario.next++;
    // A scenario says what each request gets: its tool-call steps never turn into automatic follow-ups.
    return step.reply === "tool_calls" && step.rounds === undefined ? { ...step, rounds: 0 } : step;
  }
}

/** A record as GET /requests shows it (no headers: they may carry keys). */
export function presentRecord(record: MockRequestRecord) {
  return {
    id: record.id,
    received_at: new Date(record.receivedAt).toISOString(),
    model: record.model,
    stream: record.stream,
    messages: record.messages,
    tools: record.tools,
    directive: record.directive,
    scenario: record.scenario,
    status: record.status,
    outcome: record.outcome,
    chunks_sent: record.chunksSent,
    usage: { prompt_tokens: record.promptTokens, cached_tokens: record.cachedTokens },
  };
}
