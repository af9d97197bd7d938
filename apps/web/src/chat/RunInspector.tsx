import type { HookExecution } from "@cybros/protocol";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { errorMessage } from "../lib/api";
import { Badge, cn, LoadError, Spinner, type Tone } from "../ui";
import { chatApi, type RunDetail } from "./api";
import type { RunView } from "./reconciler";
import { formatDuration, ToolCallCard } from "./ToolCallCard";
import { describeRunError } from "./transcript";

const stateTone: Record<string, Tone> = {
  queued: "neutral",
  running: "accent",
  succeeded: "success",
  failed: "danger",
  canceled: "warning",
};

/**
 * The inspector's view of one reply's run: status, each model call (provider, model, usage, timings, prompt
 * sections), tool calls, and the agent program's hooks (how each ran, what it printed, what it answered).
 */
export function RunInspector({ runId, run }: { runId: string; run: RunView | null }) {
  // The live state is part of the key: the detail is fetched again whenever the run moves on.
  const detail = useQuery({
    queryKey: ["runs", runId, run?.state ?? null],
    queryFn: (): Promise<RunDetail> => chatApi.run(runId),
    placeholderData: (previous) => (previous?.run.id === runId ? previous : undefined),
  });

  if (detail.isPending) return <Spinner label="Loading run details" />;
  if (detail.isError) return <LoadError message={errorMessage(detail.error)} onRetry={() => detail.refetch()} />;

  const { run: summary, llmCalls, toolCalls, hooks = [] } = detail.data;
  const state = run?.state ?? summary.state;
  const started = summary.startedAt ? Date.parse(summary.startedAt) : null;
  const finished = summary.finishedAt ? Date.parse(summary.finishedAt) : null;
  const totals = llmCalls.reduce(
    (sum, call) => ({
      prompt: sum.prompt + (call.usage.promptTokens ?? 0),
      completion: sum.completion + (call.usage.completionTokens ?? 0),
      cached: sum.cached + (call.usage.cachedTokens ?? 0),
    }),
    { prompt: 0, completion: 0, cached: 0 },
  );
  const error = run?.error ?? summary.error;

  return (
    <div className="space-y-5 text-sm" data-run-id={runId}>
      <Group title="Run">
        <Row label="Status">
          <Badge tone={stateTone[state] ?? "neutral"}>{state}</Badge>
        </Row>
        {error ? (
          <Row label="Error">
            <span className="text-danger-text">
              {describeRunError(error).title} <code className="text-xs">({error.code})</code>
            </span>
          </Row>
        ) : null}
        <Row label="Queued">{formatTime(summary.queuedAt)}</Row>
        {summary.startedAt ? <Row label="Started">{formatTime(summary.startedAt)}</Row> : null}
        {started !== null && finished !== null ? (
          <Row label="Duration">{formatDuration(finished - started)}</Row>
        ) : null}
        {summary.retryOfId ? <Row label="Retry of">{shortId(summary.retryOfId)}</Row> : null}
        <Row label="Run id">
          <code className="text-xs">{shortId(runId)}</code>
        </Row>
      </Group>

      {llmCalls.length > 0 ? (
        <Group title="Token usage">
          <Row label="Prompt">{totals.prompt.toLocaleString()}</Row>
          <Row label="Cached">
            {totals.cached.toLocaleString()}
            {totals.prompt > 0 ? ` (${Math.round((totals.cached / totals.prompt) * 100)} %)` : ""}
          </Row>
          <Row label="Completion">{totals.completion.toLocaleString()}</Row>
        </Group>
      ) : null}

      {llmCalls.map((call, index) => (
        <Group key={call.id} title={llmCalls.length > 1 ? `Model call ${index + 1}` : "Model call"}>
          <Row label="Provider">{call.provider ?? "—"}</Row>
          <Row label="Model">
            <code className="text-xs">{call.model ?? "—"}</code>
          </Row>
          {call.agentCommit && call.agentProgramId ? (
            <Row label="Agent version">
              <Link
                to={`/agents/${call.agentProgramId}/history/${call.agentCommit}`}
                className="font-mono text-xs text-accent-text underline underline-offset-2"
              >
                {call.agentCommit.slice(0, 10)}
              </Link>
            </Row>
          ) : null}
          {call.ttftMs !== null ? <Row label="First token">{formatDuration(call.ttftMs)}</Row> : null}
          {call.durationMs !== null ? <Row label="Duration">{formatDuration(call.durationMs)}</Row> : null}
          <Row label="Tokens">
            {fmt(call.usage.promptTokens)} in · {fmt(call.usage.cachedTokens)} cached ·{" "}
            {fmt(call.usage.completionTokens)} out
          </Row>
          {call.finishReason ? <Row label="Finish">{call.finishReason}</Row> : null}
          {call.error ? (
            <Row label="Error">
              <span className="text-danger-text">{call.error.message}</span>
            </Row>
          ) : null}
          {call.sections?.length ? (
            <div className="mt-2">
              <div className="mb-1 text-xs font-medium text-fg-muted">Prompt sections</div>
              <table className="w-full text-xs">
                <thead className="text-left text-fg-subtle">
                  <tr>
                    <th className="py-1 font-normal">Section</th>
                    <th className="py-1 text-right font-normal">Tokens</th>
                    <th className="py-1 pl-3 font-normal">Hash</th>
                  </tr>
                </thead>
                <tbody>
                  {call.sections.map((section) => (
                    <tr key={`${section.name}-${section.hash}`} className="border-t border-line">
                      <td className="py-1">
                        {section.name ?? "—"}
                        {section.stable === false ? <span className="ml-1 text-fg-subtle">(volatile)</span> : null}
                      </td>
                      <td className="py-1 text-right tabular-nums">{fmt(section.tokens ?? null)}</td>
                      <td className="py-1 pl-3 font-mono text-fg-subtle">{section.hash?.slice(0, 8) ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </Group>
      ))}

      {toolCalls.length > 0 ? (
        <Group title="Tool calls">
          {toolCalls.map((part) => (
            <ToolCallCard key={part.id} part={part} />
          ))}
        </Group>
      ) : null}

      {hooks.length > 0 ? (
        <Group title="Hooks">
          <ol className="space-y-2">
            {hooks.map((hook) => (
              <HookRow key={hook.id} hook={hook} />
            ))}
          </ol>
        </Group>
      ) : null}
    </div>
  );
}

const hookTone: Record<HookExecution["state"], Tone> = {
  waiting: "accent",
  succeeded: "success",
  failed: "danger",
  timed_out: "danger",
  canceled: "warning",
  skipped: "warning",
};

const hookStateText: Record<HookExecution["state"], string> = {
  waiting: "running",
  succeeded: "applied",
  failed: "failed",
  timed_out: "timed out",
  canceled: "stopped",
  skipped: "not run",
};

/** One hook execution: its name and how it ended, then why it was not applied, stderr's end, and its answer. */
function HookRow({ hook }: { hook: HookExecution }) {
  const facts = [
    hook.durationMs !== null ? formatDuration(hook.durationMs) : null,
    hook.exitCode !== null ? `exit ${hook.exitCode}` : null,
  ].filter(Boolean);
  const output = hook.output && Object.keys(hook.output).length > 0 ? JSON.stringify(hook.output, null, 2) : null;
  return (
    <li className="rounded-lg border border-line px-2.5 py-2" data-hook-execution={hook.hook}>
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <code className="font-mono text-xs text-fg">{hook.hook}</code>
        <Badge tone={hookTone[hook.state]}>{hookStateText[hook.state]}</Badge>
        {facts.length ? <span className="ml-auto text-xs text-fg-subtle">{facts.join(" · ")}</span> : null}
      </div>
      {hook.warning ? <p className="mt-1 text-xs break-words text-warning-text">It {hook.warning}.</p> : null}
      {hook.stderr.trim() ? <HookText label="stderr" text={hook.stderr.trimEnd()} tone="danger" /> : null}
      {output ? <HookText label="Answer" text={output} /> : null}
    </li>
  );
}

function HookText({ label, text, tone }: { label: string; text: string; tone?: "danger" }) {
  return (
    <div className="mt-1.5">
      <div className="mb-0.5 text-xs text-fg-muted">{label}</div>
      <pre
        className={cn(
          "max-h-40 overflow-auto rounded-md bg-surface-2 px-2 py-1.5 font-mono text-[11px] leading-relaxed whitespace-pre-wrap break-words",
          tone === "danger" ? "text-danger-text" : "text-fg",
        )}
      >
        {text}
      </pre>
    </div>
  );
}

function Group({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section>
      <h3 className="mb-2 text-xs font-semibold tracking-wide text-fg-subtle uppercase">{title}</h3>
      <div className="space-y-1.5">{children}</div>
    </section>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex items-baseline justify-between gap-4">
      <span className="shrink-0 text-fg-muted">{label}</span>
      <span className="min-w-0 text-right break-words text-fg">{children}</span>
    </div>
  );
}

function fmt(n: number | null): string {
  return n === null ? "—" : n.toLocaleString();
}

function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}
