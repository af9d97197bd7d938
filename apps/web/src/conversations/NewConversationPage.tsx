import type { AgentSummary } from "@cybros/protocol";
import { ArrowRight, Bot, Plus } from "lucide-react";
import { useAgents } from "../agents/queries";
import { useStartConversation } from "../agents/useStartConversation";
import { errorMessage } from "../lib/api";
import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import { Badge, ButtonLink, cn, LoadError, Skeleton } from "../ui";

/** /conversations — a new conversation starts by choosing who to talk to. */
export function NewConversationPage() {
  useTitle("New conversation");
  const agents = useAgents();
  const create = useStartConversation();
  const start = (agent: AgentSummary) => create.mutate(agent.id);

  return (
    <>
      <PageHeader title="New conversation" isPageHeading={false} />
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto flex max-w-2xl flex-col px-4 py-10 md:py-16">
          <h1 className="text-2xl font-semibold tracking-tight text-fg">Who do you want to talk to?</h1>
          <p className="mt-1.5 text-sm text-fg-muted">
            Choose an agent to start a conversation. Each agent is a folder of files you can read on the Agents page.
          </p>

          <div className="mt-6">
            {agents.isPending ? (
              <div className="grid gap-3 sm:grid-cols-2">
                <Skeleton className="h-24 rounded-xl" />
                <Skeleton className="h-24 rounded-xl" />
              </div>
            ) : agents.isError ? (
              <LoadError message={errorMessage(agents.error)} onRetry={() => agents.refetch()} />
            ) : agents.data.length === 0 ? (
              <div className="rounded-xl border border-dashed border-line-strong p-6 text-center text-sm text-fg-muted">
                No agents yet.
                <div className="mt-3">
                  <ButtonLink to="/agents" variant="primary" icon={<Plus aria-hidden className="size-4" />}>
                    Create an agent
                  </ButtonLink>
                </div>
              </div>
            ) : (
              <ul className="grid grid-cols-[repeat(auto-fill,minmax(min(100%,16rem),1fr))] gap-3">
                {agents.data.map((agent) => {
                  const busy = create.isPending && create.variables?.agentProgramId === agent.id;
                  return (
                    <li key={agent.id}>
                      <button
                        type="button"
                        onClick={() => start(agent)}
                        disabled={create.isPending}
                        aria-busy={busy || undefined}
                        aria-label={`Chat with ${agent.name}`}
                        className={cn(
                          "group flex h-full w-full items-start gap-3 rounded-xl border border-line bg-surface p-4 text-left shadow-xs transition",
                          "hover:border-line-strong hover:shadow-sm disabled:opacity-60",
                        )}
                      >
                        <span className="flex size-9 shrink-0 items-center justify-center rounded-lg bg-accent-soft text-accent-text">
                          <Bot aria-hidden className="size-[18px]" />
                        </span>
                        <span className="min-w-0 flex-1">
                          <span className="flex items-center gap-2">
                            <span className="truncate font-medium text-fg">{agent.name}</span>
                            {agent.bundled ? <Badge>Bundled</Badge> : null}
                          </span>
                          <span className="mt-1 line-clamp-2 text-sm text-fg-muted">
                            {agent.description || "No description."}
                          </span>
                        </span>
                        <ArrowRight
                          aria-hidden
                          className={cn(
                            "mt-2 size-4 shrink-0 text-fg-subtle transition-transform group-hover:translate-x-0.5 group-hover:text-fg",
                            busy && "animate-pulse",
                          )}
                        />
                      </button>
                    </li>
                  );
                })}
              </ul>
            )}
          </div>
        </div>
      </div>
    </>
  );
}
