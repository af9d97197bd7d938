import { describe, expect, it } from "vitest";
import { type ContextNode, toPromptMessages } from "./context.js";
import { MAX_PROMPT_IMAGES, newestImageIds, type PromptImages } from "./tool-images.js";

/** A turn where the agent took one screenshot per artifact id given (no id: a tool without images). */
function turn(seq: number, artifactIds: (string | null)[]): ContextNode[] {
  const messageId = `m${seq}`;
  const calls = artifactIds.map((_, i) => ({ callId: `c${seq}-${i}`, name: "take_screenshot", argsText: "{}" }));
  const nodes: ContextNode[] = [
    {
      id: `u${seq}`,
      kind: "user_message",
      state: "finished",
      content: "look",
      data: {},
      parentId: null,
      turnSeq: seq,
      position: 0,
    },
    {
      id: messageId,
      kind: "agent_message",
      state: "finished",
      content: "",
      data: { toolCalls: calls },
      parentId: null,
      turnSeq: seq,
      position: 1,
    },
  ];
  for (const [i, id] of artifactIds.entries()) {
    nodes.push({
      id: `t${seq}-${i}`,
      kind: "task",
      state: "finished",
      content: "",
      data: {
        callId: `c${seq}-${i}`,
        name: "take_screenshot",
        argsText: "{}",
        output: "Took a screenshot.",
        ...(id ? { metadata: { artifacts: [{ id, name: "screenshot.png", contentType: "image/png" }] } } : {}),
      },
      parentId: messageId,
      turnSeq: seq,
      position: 2 + i,
    });
  }
  return nodes;
}

const accepting = (ids: string[]): PromptImages => ({
  accepts: true,
  given: new Map(ids.map((id) => [id, Buffer.from(`png ${id}`).toString("base64")])),
});

describe("tool images in a prompt", () => {
  it("follows the tool message with a user message holding the image, for a model that takes images", () => {
    const messages = toPromptMessages(turn(1, ["a1"]), undefined, accepting(["a1"]));
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
    expect(messages[2]).toMatchObject({ role: "tool", content: "Took a screenshot." });
    expect(messages[3]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Screenshot from take_screenshot (screenshot.png):" },
        { type: "image", contentType: "image/png", base64: Buffer.from("png a1").toString("base64") },
      ],
    });
  });

  it("tells a model that takes no images that it cannot see them, and gives none", () => {
    for (const images of [undefined, { accepts: false, given: new Map() }]) {
      const messages = toPromptMessages(turn(1, ["a1", null]), undefined, images);
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "tool"]);
      expect(messages[2]!.content).toMatch(/^Took a screenshot\.\n\n\(This model does not take images: you cannot/);
      expect(messages[3]!.content).toBe("Took a screenshot.");
    }
  });

  it(`gives only the ${MAX_PROMPT_IMAGES} newest images; older and unreadable ones get a note`, () => {
    const context = [...turn(1, ["a1", "a2"]), ...turn(2, ["a3", null]), ...turn(3, ["a4"])];
    expect(newestImageIds(context)).toEqual(["a2", "a3", "a4"]);
    // The reply being written is not in its own prompt.
    expect(newestImageIds(context, "m3")).toEqual(["a1", "a2", "a3"]);
    // a4 could not be read (too large, or gone).
    const messages = toPromptMessages(context, undefined, accepting(["a2", "a3"]));
    const images = messages.flatMap((m) =>
      Array.isArray(m.content) ? m.content.filter((p) => p.type === "image").map((p) => p.base64) : [],
    );
    expect(images.map((b) => Buffer.from(b, "base64").toString())).toEqual(["png a2", "png a3"]);
    const notes = messages.filter((m) => m.role === "tool" && String(m.content).includes("not shown to you"));
    expect(notes.map((m) => (m as { toolCallId: string }).toolCallId)).toEqual(["c1-0", "c3-0"]);
    // Deterministic: the same nodes and images give the same messages.
    expect(toPromptMessages(context, undefined, accepting(["a2", "a3"]))).toEqual(messages);
  });
});
