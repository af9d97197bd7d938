import type { DirectiveCommand, DirectiveRequest, PendingApproval } from "@cybros/protocol";
import { eq, sql } from "drizzle-orm";
import { directiveInsert } from "../../conduits/directives.js";
import type { DirectiveRow } from "../../conduits/index.js";
import { directiveOutcome } from "../../conduits/outcome.js";
import { decideDirective } from "../../conduits/policy.js";
import { newNode, presentToolPart, type TaskData } from "../../conversations/present.js";
import { type BatchStatement, batchStatement } from "../../db/index.js";
import { facilities, nodes } from "../../db/schema.js";
import { uuidv7 } from "../../ids.js";
import type { Services } from "../../services.js";
import type { RunDirective, ToolResult } from "../../tools/define.js";
import { facilityWorkspace } from "../../workspaces/index.js";
import { resolveWait, type StepRow } from "../store.js";
import { waitOn } from "./await.js";
import type { RunScope } from "./scope.js";

/** The wait key of a wait on a directive: its end answers it through resolveWait. */
export const directiveKey = (directiveId: string) => `directive:${directiveId}`;

type Refusal = ToolResult & { durationMs: number };

/**
 * A tool call that runs as a directive on a Nexus. Policy decides first: forbidden → the tool result says why and
 * nothing is created. Otherwise the directive (awaiting a person's approval when policy asks), the await step that
 * waits on it, the card's new state and the run's release are one transaction; the run then holds nothing until
 * the directive ends (followDirectives). Answers "waiting", or the result when nothing will run.
 */
export async function runAsDirective(
  scope: RunScope,
  toolStep: StepRow,
  task: TaskData,
  plan: RunDirective["directive"],
): Promise<"waiting" | Refusal> {
  const { services } = scope;
  const [facility] = await services.db.select().from(facilities).where(eq(facilities.id, plan.facilityId));
  const workspace = facility && (await facilityWorkspace(services.db, facility.id));
  if (!facility || !workspace) {
    return { output: "The workspace this call was meant for no longer exists.", isError: true, durationMs: 0 };
  }
  if (workspace.territory.status === "revoked") {
    return { output: `The machine "${workspace.territory.name}" was revoked.`, isError: true, durationMs: 0 };
  }
  const policy = await decideDirective(services, {
    accountId: scope.account.id,
    agentProgramId: scope.agent.id,
    facilityId: facility.id,
    request: plan.request,
  });
  if (policy.decision === "forbidden") {
    return {
      summary: "Not allowed by policy",
      output: `Not run: the policy forbids it (${policy.reasons.join("; ")}).`,
      isError: true,
      durationMs: 0,
    };
  }
  const request: DirectiveRequest = {
    ...plan.request,
    driver: policy.driver,
    capabilities: { network: policy.network, network_allowlist: policy.network_allowlist },
  };
  const waitId = uuidv7();
  const asks = policy.decision === "needs_approval";
  const directive = directiveInsert(services, {
    facility,
    request,
    runStepId: waitId,
    ...(asks ? { approvalReasons: policy.reasons } : {}),
  });
  const approval: PendingApproval | undefined = asks
    ? {
        id: directive.row.id,
        command: describeCommand(request.command),
        cwd: request.cwd ?? ".",
        reasons: policy.reasons,
      }
    : undefined;
  const patch: Partial<TaskData> = {
    directive: { id: directive.row.id, territory: workspace.territory.name },
    ...(approval ? { approval } : {}),
  };
  const card = cardDraft(scope, toolStep, { ...task, ...patch });
  const waiting = await waitOn(scope, toolStep, {
    kind: "await_directive",
    id: waitId,
    key: directiveKey(directive.row.id),
    input: { directive: patch.directive },
    alongside: [directive.statement, patchTask(services, toolStep.nodeId!, patch)],
    announce: [
      card,
      ...(approval
        ? [{ ...card, kind: "approval_requested" as const, payload: { approval, directiveId: directive.row.id } }]
        : []),
    ],
  });
  if (waiting && !asks) services.conduits.claimable(facility.territoryId);
  return "waiting";
}

/** Merges `patch` into a task node's data; `null` values remove their key. */
export function patchTask(services: Services, nodeId: string, patch: Record<string, unknown>): BatchStatement {
  const removed = Object.keys(patch).filter((key) => patch[key] === null);
  const kept = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== null));
  let data = sql`${nodes.data} || ${JSON.stringify(kept)}::jsonb`;
  for (const key of removed) data = sql`(${data}) - ${key}::text`;
  return batchStatement(services.db.update(nodes).set({ data }).where(eq(nodes.id, nodeId)));
}

/** The tool_call event that redraws a waiting call's card with `data`. */
export function cardDraft(scope: RunScope, toolStep: StepRow, data: TaskData) {
  const { run } = scope;
  const input = toolStep.input as { messageNodeId: string };
  const task = newNode({
    id: toolStep.nodeId!,
    conversationId: run.conversationId,
    turnId: run.turnId,
    turnSeq: run.turnSeq,
    position: 0, // not presented
    kind: "task",
    state: "running",
    runId: run.id,
    parentId: input.messageNodeId,
    data: data as unknown as Record<string, unknown>,
  });
  return {
    conversationId: run.conversationId,
    turnId: run.turnId,
    runId: run.id,
    nodeId: task.id,
    kind: "tool_call" as const,
    payload: { messageId: input.messageNodeId, part: presentToolPart(task) },
  };
}

/** A command as a person reads it before approving it. */
export function describeCommand(command: DirectiveCommand): string {
  if ("operation" in command) {
    const { op, ...rest } = command.operation;
    return "path" in rest && rest.path ? `${op} ${rest.path}` : `${op} ${JSON.stringify(rest)}`;
  }
  if ("shell" in command && typeof command.shell === "string") return command.shell;
  if ("argv" in command && Array.isArray(command.argv)) return command.argv.map(shellQuote).join(" ");
  return JSON.stringify(command);
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The runs side of Conduits: a directive a run step waits on ends (finished, canceled, rejected, timed out) → the
 * wait is resolved with its outcome and the run continues, in whichever process heard of the end. Its output, as
 * it arrives, goes live to the tool call's card (the log chunks are the stored copy: GET /api/directives/:id/output).
 */
export function followDirectives(services: Services): () => void {
  const cards = new CardCache(services);
  const stopFinished = services.conduits.onDirectiveFinished(async (directive: DirectiveRow) => {
    if (!directive.runStepId) return;
    const outcome = await directiveOutcome(services, directive);
    const card = await cards.of(directive);
    cards.forget(directive.id);
    if (card) {
      services.realtime.publishEphemeral(
        {
          ...card,
          kind: "directive_state",
          payload: {
            directiveId: directive.id,
            state: directive.state,
            exitCode: directive.exitCode,
            outputTruncated: outcome.stdoutTruncated || outcome.stderrTruncated,
          },
        },
        true,
      );
    }
    await resolveWait(services, directiveKey(directive.id), outcome as unknown as Record<string, unknown>);
  });
  const stopOutput = services.conduits.onOutput(({ directive, stream, seq, bytes }) => {
    if (!directive.runStepId) return;
    void cards.of(directive).then((card) => {
      if (!card) return;
      const text = bytes.toString("utf8");
      // A NOTIFY carries at most 8000 bytes: a larger chunk is live here only; other processes' cards read it back.
      services.realtime.publishEphemeral(
        { ...card, kind: "directive_output", text, payload: { directiveId: directive.id, stream, seq } },
        Buffer.byteLength(text) < 6_000,
      );
    });
  });
  return () => {
    stopFinished();
    stopOutput();
  };
}

type Card = { conversationId: string; turnId: string; runId: string; nodeId: string };

/** Which tool call's card shows a directive, remembered while it runs (its output comes in many chunks). */
class CardCache {
  private readonly cards = new Map<string, Promise<Card | undefined>>();

  constructor(private readonly services: Services) {}

  of(directive: DirectiveRow): Promise<Card | undefined> {
    let card = this.cards.get(directive.id);
    if (!card) {
      card = this.lookUp(directive.runStepId!).catch((error) => {
        this.services.log.warn({ err: error, directiveId: directive.id }, "directive card lookup failed");
        return undefined;
      });
      if (this.cards.size > 1_000) this.cards.delete(this.cards.keys().next().value!);
      this.cards.set(directive.id, card);
    }
    return card;
  }

  forget(directiveId: string): void {
    this.cards.delete(directiveId);
  }

  /** A hook's directive has no card of its own: its output is not the tool call's, even when it waits in one. */
  private async lookUp(waitStepId: string): Promise<Card | undefined> {
    const result = await this.services.database.query<{
      conversation_id: string;
      turn_id: string;
      run_id: string;
      node_id: string | null;
    }>(
      `SELECT r.conversation_id, r.turn_id, r.id AS run_id, t.node_id
         FROM run_steps w
         JOIN run_steps t ON t.id = (w.input->>'toolStepId')::uuid
         JOIN conversation_runs r ON r.id = w.run_id
        WHERE w.id = $1 AND w.kind = 'await_directive'`,
      [waitStepId],
    );
    const row = result.rows[0];
    if (!row?.node_id) return undefined;
    return { conversationId: row.conversation_id, turnId: row.turn_id, runId: row.run_id, nodeId: row.node_id };
  }
}
