import type { ApprovalAnswer } from "@cybros/protocol";
import { createContext, useContext, useSyncExternalStore } from "react";
import type { DirectiveView } from "./directiveOutput";

/**
 * What a tool card needs from the open conversation: the live output of its directive (read by node, so a card
 * re-renders when its own output grows and no other row does), the output fetched once for a card opened mid-run,
 * and the answer to an approval. A ChatSession is one; cards outside a conversation (the inspector) have none.
 */
export interface ToolHost {
  subscribe(listener: () => void): () => void;
  directiveOutput(nodeId: string): DirectiveView | undefined;
  loadDirectiveOutput(nodeId: string, directiveId: string): void;
  answerApproval(nodeId: string, approvalId: string, answer: ApprovalAnswer): Promise<void>;
}

export const ToolHostContext = createContext<ToolHost | null>(null);

export function useToolHost(): ToolHost | null {
  return useContext(ToolHostContext);
}

const noSubscribe = () => () => {};

export function useDirectiveOutput(nodeId: string): DirectiveView | undefined {
  const host = useToolHost();
  return useSyncExternalStore(host?.subscribe ?? noSubscribe, () => host?.directiveOutput(nodeId));
}
