import { createOpenAICompatible, type OpenAICompatibleProvider } from "@ai-sdk/openai-compatible";
import type { LanguageModelV3FunctionTool, LanguageModelV3Message, LanguageModelV3Prompt } from "@ai-sdk/provider";

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

/**
 * Our messages as the AI SDK's provider-level prompt (LanguageModelV3). Tool-call arguments go as the verbatim
 * `argsText`: the provider forwards a string that parses as JSON unchanged, so replayed prompts stay
 * byte-identical and provider prompt caches keep hitting.
 */
export function toModelPrompt(messages: readonly ChatMessage[]): LanguageModelV3Prompt {
  return messages.map((message): LanguageModelV3Message => {
    switch (message.role) {
      case "system":
        return { role: "system", content: message.content };
      case "user":
        return { role: "user", content: [{ type: "text", text: message.content }] };
      case "assistant": {
        const text = message.content ? [{ type: "text" as const, text: message.content }] : [];
        const calls = (message.toolCalls ?? []).map((call) => ({
          type: "tool-call" as const,
          toolCallId: call.callId,
          toolName: call.name,
          input: call.argsText,
        }));
        return { role: "assistant", content: [...text, ...calls] };
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

export function toModelTools(tools: readonly LlmTool[] | undefined): LanguageModelV3FunctionTool[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((tool) => ({
    type: "function",
    name: tool.name,
    description: tool.description,
    inputSchema: tool.parameters as LanguageModelV3FunctionTool["inputSchema"],
  }));
}
