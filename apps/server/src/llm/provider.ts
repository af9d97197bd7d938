import { createOpenAICompatible, type OpenAICompatibleProvider } from "@ai-sdk/openai-compatible";

/** Where to send a call: an OpenAI-compatible base URL (…/v1), an optional key and extra headers. */
export interface LlmProviderTarget {
  baseUrl: string;
  apiKey?: string | null;
  headers?: Record<string, string>;
  /** The AI SDK's provider options key (connection test and embeddings); defaults to "cybros". */
  name?: string;
}

/** A tool offered to the model. It has no execute: the engine runs the tool loop itself. */
export interface LlmTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

/** A complete tool call as the model made it. `argsText` is verbatim so later prompts replay it byte for byte. */
export interface LlmToolCallRef {
  callId: string;
  name: string;
  argsText: string;
}

/** Our message shape (the conversation engine's); chat-completions.ts puts it on the wire. */
export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: LlmToolCallRef[] }
  | { role: "tool"; toolCallId: string; toolName: string; content: string };

export const PROVIDER_OPTIONS_KEY = "cybros";

/** The AI SDK provider, for the calls that are not streamed (connection test, embeddings). */
export function openAiCompatible(target: LlmProviderTarget): OpenAICompatibleProvider {
  return createOpenAICompatible({
    name: target.name ?? PROVIDER_OPTIONS_KEY,
    baseURL: target.baseUrl.replace(/\/+$/, ""),
    apiKey: target.apiKey ?? undefined,
    headers: target.headers,
    // Without it the SDK leaves out stream_options and no usage arrives.
    includeUsage: true,
  });
}
