import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { conversationRuns, directiveArtifacts, directives, runSteps } from "../db/schema.js";
import type { ChatMessage, ContentPart } from "../llm/index.js";
import type { ContextNode } from "./context.js";
import type { TaskData } from "./present.js";

/**
 * Images tool results left as artifacts (a screenshot), put in the prompt of a model that accepts images
 * (decisions/0040). OpenAI's format takes no images in tool messages, so they follow the tool message as a user
 * message of text and image parts. Only the newest few are given, each under a size cap; the rest get a note.
 */

export const MAX_PROMPT_IMAGES = 3;
export const MAX_PROMPT_IMAGE_BYTES = 5 * 1024 * 1024;

interface ImageRef {
  id: string;
  name: string;
  contentType: string;
}

/** What a prompt knows of tool images: whether the model takes them, and the base64 of those it is given. */
export interface PromptImages {
  accepts: boolean;
  /** By artifact id. */
  given: ReadonlyMap<string, string>;
}

/** The image artifacts a tool result names in its metadata (`metadata.artifacts`). */
export function imagesOf(data: TaskData | undefined): ImageRef[] {
  const artifacts = data?.metadata?.artifacts;
  if (!Array.isArray(artifacts)) return [];
  return artifacts.filter(
    (a): a is ImageRef =>
      typeof a?.id === "string" &&
      typeof a.name === "string" &&
      typeof a.contentType === "string" &&
      a.contentType.startsWith("image/"),
  );
}

/** The images a prompt may give: those of the newest MAX_PROMPT_IMAGES finished tool results' images. */
export function newestImageIds(context: readonly ContextNode[], excludeNodeId?: string): string[] {
  const ids = context
    .filter((node) => node.kind === "task" && node.state === "finished" && node.parentId !== excludeNodeId)
    .flatMap((node) => imagesOf(node.data as unknown as TaskData).map((image) => image.id));
  return [...new Set(ids)].slice(-MAX_PROMPT_IMAGES);
}

/**
 * The images a prompt gives its model, read in one query: none unless the model accepts images. Only artifacts of
 * directives run for this conversation are read, whatever a tool's metadata names.
 */
export async function promptImages(
  db: Db,
  conversationId: string,
  context: readonly ContextNode[],
  accepts: boolean,
  excludeNodeId?: string,
): Promise<PromptImages> {
  const ids = accepts ? newestImageIds(context, excludeNodeId) : [];
  if (ids.length === 0) return { accepts, given: new Map() };
  const rows = await db
    .select({
      id: directiveArtifacts.id,
      // Too large: no bytes read at all.
      bytes: sql<Uint8Array | null>`case when ${directiveArtifacts.sizeBytes} <= ${MAX_PROMPT_IMAGE_BYTES}
        then ${directiveArtifacts.bytes} end`,
    })
    .from(directiveArtifacts)
    .innerJoin(directives, eq(directives.id, directiveArtifacts.directiveId))
    .innerJoin(runSteps, eq(runSteps.id, directives.runStepId))
    .innerJoin(conversationRuns, eq(conversationRuns.id, runSteps.runId))
    .where(and(inArray(directiveArtifacts.id, ids), eq(conversationRuns.conversationId, conversationId)));
  const given = new Map<string, string>();
  for (const row of rows) if (row.bytes) given.set(row.id, Buffer.from(row.bytes).toString("base64"));
  return { accepts, given };
}

const NOT_SEEN = "\n\n(This model does not take images: you cannot see it, so do not describe what is on it.)";

/**
 * What a finished tool result's images add to the prompt: a note on the tool message's text, and the user message
 * that gives the model those it is given. Deterministic: the same result and images give the same messages.
 */
export function toolImageMessage(
  toolName: string,
  data: TaskData | undefined,
  images: PromptImages | undefined,
): { note: string; message?: ChatMessage } {
  const refs = imagesOf(data);
  if (refs.length === 0) return { note: "" };
  if (!images?.accepts) return { note: NOT_SEEN };
  const parts: ContentPart[] = [];
  const withheld: string[] = [];
  const label = toolName === "take_screenshot" ? "Screenshot" : "Image";
  for (const ref of refs) {
    const base64 = images.given.get(ref.id);
    if (base64 === undefined) withheld.push(ref.name);
    else {
      parts.push({ type: "text", text: `${label} from ${toolName} (${ref.name}):` });
      parts.push({ type: "image", contentType: ref.contentType, base64 });
    }
  }
  const note = withheld.length
    ? `\n\n(${withheld.join(", ")}: not shown to you; a prompt gives only the ${MAX_PROMPT_IMAGES} newest images, ` +
      `each at most ${MAX_PROMPT_IMAGE_BYTES / 1024 / 1024} MB.)`
    : "";
  return parts.length ? { note, message: { role: "user", content: parts } } : { note };
}
