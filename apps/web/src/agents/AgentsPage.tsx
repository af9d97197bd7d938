import type { AgentSummary } from "@cybros/protocol";
import { Bot, MessageSquarePlus, Plus, Search } from "lucide-react";
import { useId, useState } from "react";
import { Link } from "react-router";
import { newConversationPath } from "../conversations/agentChoice";
import { errorMessage } from "../lib/api";
import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import { Badge, Button, EmptyState, iconButtonClass, LoadError, Skeleton } from "../ui";
import { CreateAgentDialog } from "./CreateAgentDialog";
import { agentOrigin } from "./origin";
import { useAgents } from "./queries";

/** /agents — every agent program, bundled and created, with search and a way to make a new one. */
export function AgentsPage() {
  useTitle("Agents");
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader
        title="Agents"
        actions={
          <Button
            variant="primary"
            size="sm"
            icon={<Plus aria-hidden className="size-4" />}
            onClick={() => setCreating(true)}
          >
            New agent
          </Button>
        }
      />
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-4xl px-4 py-6 md:px-8 md:py-8">
          <AgentBrowser />
        </div>
      </div>
      {creating ? <CreateAgentDialog onClose={() => setCreating(false)} /> : null}
    </>
  );
}

/** Search plus the bundled and created lists; also used by System settings → Agent programs. */
export function AgentBrowser({ compact = false }: { compact?: boolean }) {
  const [search, setSearch] = useState("");
  const agents = useAgents(search);
  const searchId = useId();
  const bundled = agents.data?.filter((a) => a.bundled) ?? [];
  const created = agents.data?.filter((a) => !a.bundled) ?? [];

  return (
    <div className="flex flex-col gap-6">
      <div className="relative max-w-md">
        <label htmlFor={searchId} className="sr-only">
          Search agents
        </label>
        <Search
          aria-hidden
          className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-fg-subtle"
        />
        <input
          id={searchId}
          type="search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          placeholder="Search agents"
          className="h-10 w-full rounded-lg border border-line-strong bg-surface pr-3 pl-9 text-sm text-fg shadow-xs placeholder:text-fg-subtle"
        />
      </div>
      {agents.isPending ? (
        <div className="grid grid-cols-[repeat(auto-fill,minmax(min(100%,18rem),1fr))] gap-3">
          <Skeleton className="h-28 rounded-xl" />
          <Skeleton className="h-28 rounded-xl" />
        </div>
      ) : agents.isError ? (
        <LoadError message={errorMessage(agents.error)} onRetry={() => agents.refetch()} />
      ) : agents.data.length === 0 ? (
        <EmptyState icon={<Bot />} title={search.trim() ? `No agents match “${search.trim()}”` : "No agents yet"} />
      ) : (
        <>
          {created.length ? <AgentGroup title="Your agents" agents={created} compact={compact} /> : null}
          {bundled.length ? <AgentGroup title="Bundled" agents={bundled} compact={compact} /> : null}
        </>
      )}
    </div>
  );
}

function AgentGroup({ title, agents, compact }: { title: string; agents: AgentSummary[]; compact: boolean }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId} className="mb-2 text-sm font-medium text-fg-muted">
        {title} <span className="text-fg-subtle">· {agents.length}</span>
      </h2>
      <ul
        className={
          compact ? "flex flex-col gap-2" : "grid grid-cols-[repeat(auto-fill,minmax(min(100%,18rem),1fr))] gap-3"
        }
      >
        {agents.map((agent) => (
          <AgentCard key={agent.id} agent={agent} />
        ))}
      </ul>
    </section>
  );
}

function AgentCard({ agent }: { agent: AgentSummary }) {
  const origin = agentOrigin(agent);
  return (
    <li className="group relative flex items-start gap-3 rounded-xl border border-line bg-surface p-4 shadow-xs transition hover:border-line-strong hover:shadow-sm">
      <span className="flex size-9 shrink-0 items-center justify-center rounded-lg bg-accent-soft text-accent-text">
        <Bot aria-hidden className="size-[18px]" />
      </span>
      <div className="min-w-0 flex-1">
        <div className="flex flex-wrap items-center gap-2">
          <Link
            to={`/agents/${agent.id}`}
            className="truncate font-medium text-fg after:absolute after:inset-0 after:rounded-xl focus-visible:outline-none focus-visible:after:outline-2 focus-visible:after:outline-ring"
          >
            {agent.name}
          </Link>
          {agent.bundled ? <Badge>Bundled</Badge> : <Badge tone="accent">{origin ? `From ${origin}` : "Blank"}</Badge>}
        </div>
        <p className="mt-1 line-clamp-2 text-sm text-fg-muted">{agent.description || "No description."}</p>
      </div>
      <Link
        to={newConversationPath(agent.id)}
        aria-label={`New conversation with ${agent.name}`}
        title={`New conversation with ${agent.name}`}
        className={iconButtonClass("md", "ghost", "relative z-10 -my-1.5 -mr-1.5")}
      >
        <MessageSquarePlus aria-hidden />
      </Link>
    </li>
  );
}
