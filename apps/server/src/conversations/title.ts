import { and, asc, desc, eq } from "drizzle-orm";
import { batchStatement } from "../db/index.js";
import { conversationRuns, conversations, llmCalls, llmProviders, nodes } from "../db/schema.js";
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
  const outcome = await services.database.batch([
    batchStatement(
      services.db
        .update(conversations)
        .set({ title, titleSource: source, updatedAt: new Date() })
        .where(
          and(
            eq(conversations.id, conversationId),
            source === "generated" ? eq(conversations.titleSource, "auto") : undefined,
          ),
        )
        .returning(),
      "some",
    ),
    batchStatement(events.query),
  ]);
  if (!outcome.ok) return undefined;
  services.realtime.publish(events.envelopes(outcome.results[1]!.rows));
  const [row] = await services.db.select().from(conversations).where(eq(conversations.id, conversationId));
  return row;
}

/**
 * After a run: the first successful reply names a conversation whose title is still automatic — a short model
 * call with the model that replied, or the first message's words when that model is the built-in mock or the
 * call fails. Never throws: a title is not worth a failed run.
 */
export async function titleAfterReply(services: Services, run: { id: string; conversationId: string }) {
  try {
    const [subject] = await services.db
      .select({ title: conversations.title })
      .from(conversationRuns)
      .innerJoin(conversations, eq(conversations.id, conversationRuns.conversationId))
      .where(
        and(
          eq(conversationRuns.id, run.id),
          eq(conversationRuns.state, "succeeded"),
          eq(conversations.titleSource, "auto"),
        ),
      );
    if (!subject) return;
    const title = await proposeTitle(services, run);
    if (!title) return;
    if (title !== subject.title) {
      await retitle(services, run.conversationId, title, "generated");
      return;
    }
    // The first message's words already name it (the send set them and said so): settled, nothing to announce.
    await services.db
      .update(conversations)
      .set({ titleSource: "generated" })
      .where(and(eq(conversations.id, run.conversationId), eq(conversations.titleSource, "auto")));
  } catch (error) {
    services.log.warn({ err: error, runId: run.id }, "conversation title not generated");
  }
}

async function proposeTitle(services: Services, run: { id: string; conversationId: string }): Promise<string | null> {
  const [message] = await services.db
    .select({ content: nodes.content })
    .from(nodes)
    .where(and(eq(nodes.conversationId, run.conversationId), eq(nodes.kind, "user_message")))
    .orderBy(asc(nodes.turnSeq))
    .limit(1);
  if (!message) return null;
  const heuristic = titleFromMessage(message.content);
  const [call] = await services.db
    .select({ model: llmCalls.model, provider: llmProviders, reply: nodes.content })
    .from(llmCalls)
    .innerJoin(llmProviders, eq(llmProviders.id, llmCalls.providerId))
    .innerJoin(nodes, eq(nodes.id, llmCalls.nodeId))
    .where(eq(llmCalls.runId, run.id))
    .orderBy(desc(llmCalls.createdAt))
    .limit(1);
  if (!call || isServerRelative(call.provider.baseUrl)) return heuristic;
  try {
    const { text } = await completeOnce({
      provider: readyToCall(services, call.provider),
      model: call.model,
      prompt: titlePrompt(message.content, call.reply),
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
