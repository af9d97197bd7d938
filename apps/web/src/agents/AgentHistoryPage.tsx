import type { AgentCommit } from "@cybros/protocol";
import { Bot, History, RotateCcw, User, Wrench } from "lucide-react";
import { useMemo } from "react";
import { Link, useParams } from "react-router";
import { errorMessage } from "../lib/api";
import { dateTime, relativeTime } from "../lib/time";
import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import { Badge, Button, Card, cn, EmptyState, LoadError, Skeleton, useToast } from "../ui";
import { useAgent, useAgentCommitDiff, useAgentHistory, useRevertAgentCommit } from "./queries";

const AUTHORS: Record<AgentCommit["author"], { label: string; icon: typeof User }> = {
  person: { label: "Person", icon: User },
  agent: { label: "Agent", icon: Bot },
  revert: { label: "Revert", icon: RotateCcw },
  other: { label: "", icon: Wrench },
};

/** /agents/:id/history[/:sha] — every version of the agent, who made it, and one version's diff with Revert. */
export function AgentHistoryPage() {
  const { id = "", sha } = useParams();
  const agent = useAgent(id);
  const history = useAgentHistory(id);
  const name = agent.data?.agent.name ?? "Agent";
  useTitle(`History · ${name}`);
  const commits = history.data ?? [];
  const selected = sha ? (commits.find((c) => c.sha.startsWith(sha))?.sha ?? sha) : commits[0]?.sha;

  return (
    <>
      <PageHeader
        newConversation={false}
        title={
          <span>
            <Link to={`/agents/${id}`} className="hover:underline">
              {name}
            </Link>{" "}
            <span className="text-fg-subtle">/ History</span>
          </span>
        }
      />
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto grid max-w-6xl items-start gap-4 px-4 py-6 md:px-8 lg:grid-cols-[320px_1fr]">
          {history.isPending ? (
            <Skeleton className="h-64 rounded-xl" />
          ) : history.isError ? (
            <LoadError message={errorMessage(history.error)} onRetry={() => history.refetch()} />
          ) : commits.length === 0 ? (
            <EmptyState icon={<History />} title="No versions">
              This agent's folder is not a git repository of its own.
            </EmptyState>
          ) : (
            <Card className="overflow-hidden">
              <ol aria-label="Versions" className="divide-y divide-line">
                {commits.map((commit) => (
                  <CommitRow key={commit.sha} agentId={id} commit={commit} selected={commit.sha === selected} />
                ))}
              </ol>
            </Card>
          )}
          {selected ? (
            <CommitDiff
              agentId={id}
              sha={selected}
              revertible={commits.length > 0 && commits.at(-1)?.sha !== selected}
            />
          ) : null}
        </div>
      </div>
    </>
  );
}

function AuthorBadge({ commit }: { commit: AgentCommit }) {
  const { label, icon: Icon } = AUTHORS[commit.author];
  return (
    <Badge tone={commit.author === "agent" ? "accent" : commit.author === "revert" ? "warning" : "neutral"}>
      <Icon aria-hidden className="size-3" />
      {label || commit.authorName}
    </Badge>
  );
}

function CommitRow({ agentId, commit, selected }: { agentId: string; commit: AgentCommit; selected: boolean }) {
  return (
    <li>
      <Link
        to={`/agents/${agentId}/history/${commit.sha}`}
        aria-current={selected ? "true" : undefined}
        className={cn("flex flex-col gap-1 px-4 py-3 text-sm", selected ? "bg-surface-3" : "hover:bg-surface-2")}
      >
        <span className="font-medium break-words text-fg">{commit.subject}</span>
        <span className="flex flex-wrap items-center gap-2 text-xs text-fg-muted">
          <AuthorBadge commit={commit} />
          <time dateTime={commit.committedAt} title={dateTime(commit.committedAt)}>
            {relativeTime(commit.committedAt)}
          </time>
          <code className="font-mono">{commit.sha.slice(0, 7)}</code>
        </span>
      </Link>
    </li>
  );
}

function CommitDiff({ agentId, sha, revertible }: { agentId: string; sha: string; revertible: boolean }) {
  const diff = useAgentCommitDiff(agentId, sha);
  const revert = useRevertAgentCommit(agentId);
  const toast = useToast();
  if (diff.isPending) return <Skeleton className="h-64 rounded-xl" />;
  if (diff.isError) return <LoadError message={errorMessage(diff.error)} onRetry={() => diff.refetch()} />;
  const { commit } = diff.data;
  return (
    <Card className="min-w-0 overflow-hidden">
      <div className="flex flex-wrap items-start justify-between gap-3 border-b border-line px-4 py-3">
        <div className="min-w-0">
          <h2 className="font-semibold break-words text-fg">{commit.subject}</h2>
          <p className="mt-1 flex flex-wrap items-center gap-2 text-xs text-fg-muted">
            <AuthorBadge commit={commit} />
            {dateTime(commit.committedAt)}
            <code className="font-mono" title={commit.sha}>
              {commit.sha.slice(0, 10)}
            </code>
          </p>
        </div>
        {revertible ? (
          <Button
            size="sm"
            busy={revert.isPending}
            icon={<RotateCcw aria-hidden className="size-4" />}
            onClick={() =>
              revert.mutate(commit.sha, {
                onSuccess: () => toast.show(`Reverted “${commit.subject}”`),
                onError: (e) => toast.show(errorMessage(e), "danger"),
              })
            }
          >
            Revert
          </Button>
        ) : null}
      </div>
      <UnifiedDiff text={diff.data.diff} />
      {diff.data.truncated ? <p className="px-4 py-2 text-xs text-fg-subtle">The diff is cut short here.</p> : null}
    </Card>
  );
}

/** A git unified diff, one block per file, added and removed lines colored. */
function UnifiedDiff({ text }: { text: string }) {
  const files = useMemo(() => {
    const out: { name: string; lines: string[] }[] = [];
    for (const line of text.split("\n")) {
      if (line.startsWith("diff --git ")) {
        out.push({ name: line.replace(/^diff --git a\/(.*) b\/.*$/, "$1"), lines: [] });
      } else if (
        out.length &&
        !/^(index |--- |\+\+\+ |new file mode|deleted file mode|similarity|rename )/.test(line)
      ) {
        out.at(-1)!.lines.push(line);
      }
    }
    return out;
  }, [text]);
  if (files.length === 0) return <p className="px-4 py-6 text-sm text-fg-subtle">This version changed no files.</p>;
  return (
    <div className="flex flex-col">
      {files.map((file) => (
        <section key={file.name} aria-label={file.name} className="border-b border-line last:border-b-0">
          <h3 className="bg-surface-2 px-4 py-2 font-mono text-xs font-medium text-fg">{file.name}</h3>
          <pre className="overflow-x-auto py-1 font-mono text-[12.5px] leading-5">
            {file.lines.map((line, index) => (
              <div
                // biome-ignore lint/suspicious/noArrayIndexKey: a diff's lines never reorder
                key={index}
                className={cn(
                  "px-4 whitespace-pre-wrap [overflow-wrap:anywhere]",
                  line.startsWith("+") && "bg-success-soft text-success-text",
                  line.startsWith("-") && "bg-danger-soft text-danger-text",
                  line.startsWith("@@") && "text-fg-subtle",
                )}
              >
                {line || " "}
              </div>
            ))}
          </pre>
        </section>
      ))}
    </div>
  );
}
