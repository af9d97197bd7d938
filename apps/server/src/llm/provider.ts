/** Where to send a call: an OpenAI-compatible base URL (…/v1), an optional key and extra headers. */
export interface LlmProviderTarget {
  baseUrl: string;
  apiKey?: string | null;
  headers?: Record<string, string>;
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

/** A piece of a user message: text, or an image given whole (base64, as the provider wants it inline). */
export type ContentPart = { type: "text"; text: string } | { type: "image"; contentType: string; base64: string };

/** Our message shape (the conversation engine's); chat-completions.ts puts it on the wire. */
export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ContentPart[] }
  | { role: "assistant"; content: string; toolCalls?: LlmToolCallRef[] }
  | { role: "tool"; toolCallId: string; toolName: string; content: string };
