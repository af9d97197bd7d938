import type { PendingApproval } from "@cybros/protocol";
import { Check, ShieldAlert, X } from "lucide-react";
import { useId, useState } from "react";
import { errorMessage } from "../../lib/api";
import { Button, Input, useToast } from "../../ui";
import { useToolHost } from "../toolHost";

/**
 * What a tool call waits for a person to allow: the command as it would run, where, and why it is asked; Approve
 * runs it, Reject (with an optional reason for the agent) never does. The card stops asking once the server
 * confirms the answer.
 */
export function ApprovalPanel({
  nodeId,
  approval,
  territory,
}: {
  nodeId: string;
  approval: PendingApproval;
  territory?: string;
}) {
  const host = useToolHost();
  const toast = useToast();
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const reasonId = useId();

  const answer = async (approved: boolean) => {
    if (!host || busy) return;
    setBusy(approved ? "approve" : "reject");
    try {
      const trimmed = reason.trim();
      await host.answerApproval(
        nodeId,
        approval.id,
        approved || !trimmed ? { approved } : { approved, reason: trimmed },
      );
    } catch (error) {
      toast.show(`Could not ${approved ? "approve" : "reject"}: ${errorMessage(error)}`, "danger");
    } finally {
      setBusy(null);
    }
  };

  return (
    <section
      aria-label="Approval needed"
      className="space-y-2.5 rounded-lg border border-warning-line bg-warning-soft p-3 text-sm"
      data-approval={approval.id}
    >
      <p className="flex items-center gap-2 font-medium text-warning-text">
        <ShieldAlert aria-hidden className="size-4 shrink-0" />
        {approval.cwd !== null || territory ? "Approve this command?" : "Approve this tool call?"}
      </p>
      <pre className="max-h-48 overflow-auto rounded-md border border-line bg-surface px-2.5 py-2 font-mono text-xs leading-relaxed break-words whitespace-pre-wrap text-fg">
        {approval.command}
      </pre>
      {approval.cwd || territory ? (
        <p className="text-xs break-words text-fg-muted">
          Runs
          {approval.cwd === "." ? (
            " in the workspace"
          ) : approval.cwd ? (
            <>
              {" in "}
              <code className="font-mono text-fg">{approval.cwd}</code>
            </>
          ) : null}
          {territory ? (
            <>
              {" on "}
              <span className="font-medium text-fg">{territory}</span>
            </>
          ) : null}
        </p>
      ) : null}
      <ul className="list-disc space-y-0.5 pl-5 text-xs text-fg-muted">
        {approval.reasons.map((why, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list, shown once
          <li key={index}>
            <Reason text={why} />
          </li>
        ))}
      </ul>
      {rejecting ? (
        <form
          className="space-y-2"
          onSubmit={(event) => {
            event.preventDefault();
            void answer(false);
          }}
        >
          <label htmlFor={reasonId} className="block text-xs font-medium text-fg-muted">
            Why not? (optional, the agent reads it)
          </label>
          <Input
            id={reasonId}
            value={reason}
            maxLength={1000}
            autoFocus
            onChange={(event) => setReason(event.target.value)}
            placeholder="e.g. Delete only the build folder"
            className="h-9 bg-surface text-sm"
          />
          <div className="flex flex-wrap gap-2">
            <Button
              type="submit"
              size="sm"
              variant="danger"
              busy={busy === "reject"}
              icon={<X aria-hidden className="size-3.5" />}
            >
              Reject
            </Button>
            <Button size="sm" variant="ghost" disabled={busy !== null} onClick={() => setRejecting(false)}>
              Back
            </Button>
          </div>
        </form>
      ) : (
        <div className="flex flex-wrap gap-2">
          <Button
            size="sm"
            variant="primary"
            busy={busy === "approve"}
            disabled={!host || busy !== null}
            icon={<Check aria-hidden className="size-3.5" />}
            onClick={() => void answer(true)}
          >
            Approve
          </Button>
          <Button
            size="sm"
            disabled={!host || busy !== null}
            icon={<X aria-hidden className="size-3.5" />}
            onClick={() => setRejecting(true)}
          >
            Reject…
          </Button>
        </div>
      )}
    </section>
  );
}

/** A policy's reason, with the rules and commands it quotes in `backticks` shown as code. */
function Reason({ text }: { text: string }) {
  const parts = text.split(/`([^`]+)`/);
  return (
    <>
      {parts.map((part, index) =>
        index % 2 === 1 ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed sentence
          <code key={index} className="rounded bg-surface px-1 font-mono text-fg">
            {part}
          </code>
        ) : (
          part
        ),
      )}
    </>
  );
}
