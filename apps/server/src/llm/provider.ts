import { createOpenAICompatible, type OpenAICompatibleProvider } from "@ai-sdk/openai-compatible";
import { jsonSchema, type ModelMessage, type ToolSet, tool } from "ai";

/** Where to send a call: an OpenAI-compatible base URL (…/v1), an optional key and extra headers. */
export interface LlmProviderTarget {
  baseUrl: string;
  apiKey?: string | null;
  headers?: Record<string, string>;
  /** Only used in the AI SDK's bookkeeping (provider options key); defaults to "cybros". */
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

/** Our message shape (the conversation engine's); converted to the AI SDK's here and nowhere else. */
export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: LlmToolCallRef[] }
  | { role: "tool"; toolCallId: string; toolName: string; content: string };

export const PROVIDER_OPTIONS_KEY = "cybros";

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

export function toModelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  return messages.map((message): ModelMessage => {
    switch (message.role) {
      case "system":
      case "user":
        return { role: message.role, content: message.content };
      case "assistant": {
        if (!message.toolCalls?.length) return { role: "assistant", content: message.content };
        const text = message.content ? [{ type: "text" as const, text: message.content }] : [];
        return {
          role: "assistant",
          content: [
            ...text,
            // A string input that parses as JSON is sent verbatim by the SDK, keeping the prompt byte-stable.
            ...message.toolCalls.map((call) => ({
              type: "tool-call" as const,
              toolCallId: call.callId,
              toolName: call.name,
              input: call.argsText,
            })),
          ],
        };
      }
      default:
        return {
          role: "tool",
          content: [
            {
              type: "tool-result",
              toolCallId: message.toolCallId,
              toolName: message.toolName,
              output: { type: "text", value: message.content },
            },
          ],
        };
    }
  });
}

export function toToolSet(tools: readonly LlmTool[] | undefined): ToolSet | undefined {
  if (!tools?.length) return undefined;
  const set: ToolSet = {};
  for (const spec of tools) {
    set[spec.name] = tool({
      description: spec.description,
      inputSchema: jsonSchema(spec.parameters as Parameters<typeof jsonSchema>[0]),
    });
  }
  return set;
}
