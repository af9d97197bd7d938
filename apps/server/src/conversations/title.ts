import { conversationQueries, conversationWrites } from "../db/queries/conversations.js";
import { llmCallQueries } from "../db/queries/llm-calls.js";
import { nodeQueries } from "../db/queries/nodes.js";
import { completeOnce } from "../llm/index.js";
import { isServerRelative } from "../providers/base-url.js";
import { readyToCall } from "../providers/resolve.js";
import type { Services } from "../services.js";
import type { ConversationRow } from "./present.js";

export const DEFAULT_TITLE = "New conversation";
const TITLE_MAX_CHARS = 60;
const TITLE_MAX_WORDS = 6;
const TITLE_TIMEOUT_MS = 15_000;
/** What the title call is shown of the exchange: enough to name it, little to pay for. */
const EXCERPT_CHARS = { message: 1500, reply: 500 } as const;

/** The first sentence of a message, cut at a word boundary to fit a sidebar row. */
export function titleFromMessage(content: string): string {
  const text = content.replace(/\s+/g, " ").trim();
  if (!text) return DEFAULT_TITLE;
  const sentence = text.match(/^.+?[.!?](?=\s|$)/)?.[0] ?? text;
  const first = sentence.length >= 12 ? sentence : text;
  if (first.length <= TITLE_MAX_CHARS) return first.replace(/[.]$/, "");
  const cut = first.slice(0, TITLE_MAX_CHARS - 1);
  const boundary = cut.lastIndexOf(" ");
  return `${(boundary >= TITLE_MAX_CHARS / 2 ? cut.slice(0, boundary) : cut).replace(/[\s,;:.-]+$/, "")}…`;
}

/** A model's answer made into a title: its first line, without quotes, labels or a final period; six words at most. */
export function cleanTitle(answer: string): string {
  const line =
    answer
      .split("\n")
      .map((l) => l.trim())
      .find(Boolean) ?? "";
  const bare = line
    .replace(/^(#+|\*\*|title:)\s*/i, "")
    .replace(/^["'“”‘’*`]+|["'“”‘’*`]+$/g, "")
    .replace(/[.!。]+$/, "")
    .trim();
  const words = bare.split(/\s+/).filter(Boolean).slice(0, TITLE_MAX_WORDS).join(" ");
  return words.length > TITLE_MAX_CHARS ? titleFromMessage(words) : words;
}

/**
 * Sets a conversation's title and records `conversation_updated` in one transaction. A generated title only
 * replaces an automatic one: a title the person wrote is never overwritten. Undefined when nothing changed.
 */
export async function retitle(
  services: Services,
  conversationId: string,
  title: string,
  source: "generated" | "person",
): Promise<ConversationRow | undefined> {
  const events = services.realtime.recording([{ conversationId, kind: "conversation_updated", payload: { title } }]);
  const written = await services.database.write({
    conversation: conversationWrites(services.db).retitle({ id: conversationId, title, source }),
    events: events.write,
  });
  if (!written.ok) return undefined;
  services.realtime.publish(events.envelopes(written.rows.events));
  return conversationQueries(services.db).find(conversationId);
}

/**
 * After a run: the first successful reply names a conversation whose title is still automatic — a short model
 * call with the model that replied, or the first message's words when that model is the built-in mock or the
 * call fails. Never throws: a title is not worth a failed run.
 */
export async function titleAfterReply(services: Services, run: { id: string; conversationId: string }) {
  try {
    const autoTitle = await conversationQueries(services.db).autoTitleAfter(run.id);
    if (autoTitle === undefined) return;
    const title = await proposeTitle(services, run);
    if (!title) return;
    if (title !== autoTitle) {
      await retitle(services, run.conversationId, title, "generated");
      return;
    }
    // The first message's words already name it (the send set them and said so): settled, nothing to announce.
    await conversationQueries(services.db).settleTitle(run.conversationId);
  } catch (error) {
    services.log.warn({ err: error, runId: run.id }, "conversation title not generated");
  }
}

async function proposeTitle(services: Services, run: { id: string; conversationId: string }): Promise<string | null> {
  const message = await nodeQueries(services.db).firstUserText(run.conversationId);
  if (message === undefined) return null;
  const heuristic = titleFromMessage(message);
  const call = await llmCallQueries(services.db).latestOfRun(run.id);
  if (!call || isServerRelative(call.provider.baseUrl)) return heuristic;
  try {
    const { text } = await completeOnce({
      provider: readyToCall(services, call.provider),
      model: call.model,
      prompt: titlePrompt(message, call.reply),
      maxOutputTokens: 24,
      timeoutMs: TITLE_TIMEOUT_MS,
    });
    return cleanTitle(text) || heuristic;
  } catch (error) {
    services.log.info({ err: error, runId: run.id }, "title call failed; using the first message's words");
    return heuristic;
  }
}

function titlePrompt(message: string, reply: string): string {
  return [
    `Write a title of at most ${TITLE_MAX_WORDS} words for the conversation below, in the language it is in.`,
    "Answer with the title only: no quotes, no final period.",
    "",
    `User: ${message.slice(0, EXCERPT_CHARS.message)}`,
    `Assistant: ${reply.slice(0, EXCERPT_CHARS.reply)}`,
  ].join("\n");
}
