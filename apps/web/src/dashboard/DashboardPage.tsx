import type { RunState } from "@cybros/protocol";
import { Bot, Cpu, History, MessageSquare, MessageSquarePlus, Plug, Settings, Sparkles, Zap } from "lucide-react";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { useCurrentUser } from "../auth/session";
import { useConversationList } from "../conversations/queries";
import { errorMessage } from "../lib/api";
import { relativeTime } from "../lib/time";
import { useTitle } from "../lib/useTitle";
import { ConnectionStatus } from "../providers/ProvidersSection";
import { useCheckConnection, useProviders } from "../providers/queries";
import { PageHeader } from "../shell/PageHeader";
import { SettingsBody } from "../shell/SettingsLayout";
import { Button, Card, EmptyState, LoadError, Skeleton, StatusDot, type Tone } from "../ui";
import { useAgentModelHealth, useLastRun } from "./queries";

function greeting(now = new Date()): string {
  const hour = now.getHours();
  return hour < 5 ? "Good evening" : hour < 12 ? "Good morning" : hour < 18 ? "Good afternoon" : "Good evening";
}

/** /dashboard — what happened lately, whether everything is wired up, and where to go next. */
export function DashboardPage() {
  useTitle("Dashboard");
  const user = useCurrentUser();
  return (
    <>
      <PageHeader title="Dashboard" isPageHeading={false} />
      <SettingsBody wide>
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-fg">{greeting()}</h1>
          <p className="mt-1 text-sm text-fg-muted">Signed in as {user?.email}.</p>
        </div>
        <QuickActions />
        <div className="grid grid-cols-[repeat(auto-fit,minmax(min(100%,17rem),1fr))] gap-4">
          <ProvidersCard />
          <ModelHealthCard />
          <LastRunCard />
        </div>
        <RecentConversations />
      </SettingsBody>
    </>
  );
}

function QuickActions() {
  const actions = [
    { to: "/conversations", label: "New conversation", icon: MessageSquarePlus },
    { to: "/agents", label: "Browse agents", icon: Bot },
    { to: "/system/settings#providers", label: "Manage providers", icon: Plug },
    { to: "/settings", label: "Your settings", icon: Settings },
  ];
  return (
    <nav aria-label="Quick actions">
      <ul className="grid grid-cols-[repeat(auto-fit,minmax(min(100%,10.5rem),1fr))] gap-3">
        {actions.map(({ to, label, icon: Icon }, index) => (
          <li key={to}>
            <Link
              to={to}
              className={
                index === 0
                  ? "flex h-full items-center gap-3 rounded-xl bg-accent px-4 py-3 text-sm font-medium text-accent-fg shadow-sm transition-colors hover:bg-accent-hover"
                  : "flex h-full items-center gap-3 rounded-xl border border-line bg-surface px-4 py-3 text-sm font-medium text-fg shadow-xs transition-colors hover:bg-surface-2"
              }
            >
              <Icon aria-hidden className="size-[18px] shrink-0" />
              {label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function StatusCard({
  title,
  icon,
  summary,
  link,
  children,
}: {
  title: string;
  icon: ReactNode;
  summary?: ReactNode;
  link?: { to: string; label: string };
  children: ReactNode;
}) {
  return (
    <Card className="flex flex-col p-4">
      <div className="flex items-center gap-2">
        <span className="text-fg-subtle [&_svg]:size-4">{icon}</span>
        <h2 className="text-sm font-semibold text-fg">{title}</h2>
        {link ? (
          <Link to={link.to} className="ml-auto text-xs font-medium text-accent-text hover:underline">
            {link.label}
          </Link>
        ) : null}
      </div>
      {summary ? <div className="mt-3 text-2xl font-semibold tracking-tight text-fg">{summary}</div> : null}
      <div className="mt-3 flex-1">{children}</div>
    </Card>
  );
}

function ProvidersCard() {
  const providers = useProviders();
  const list = providers.data ?? [];
  const enabled = list.filter((p) => p.enabled);
  const connected = enabled.filter((p) => p.lastCheck?.ok);
  const untested = enabled.filter((p) => !p.lastCheck);
  const check = useCheckConnection();
  const testUntested = () => {
    for (const provider of untested) check.mutate(provider.id);
  };
  const summary = !providers.isSuccess
    ? null
    : enabled.length === 0
      ? "None enabled"
      : untested.length === enabled.length
        ? enabled.length === 1
          ? "1 provider, untested"
          : `${enabled.length} providers, untested`
        : `${connected.length} of ${enabled.length} connected`;
  return (
    <StatusCard
      title="Provider connectivity"
      icon={<Plug />}
      link={{ to: "/system/settings#providers", label: "Manage" }}
      summary={summary}
    >
      {providers.isPending ? (
        <Skeleton className="h-16" />
      ) : providers.isError ? (
        <LoadError message={errorMessage(providers.error)} onRetry={() => providers.refetch()} />
      ) : list.length === 0 ? (
        <p className="text-sm text-fg-muted">
          No providers yet.{" "}
          <Link to="/system/settings#providers" className="font-medium text-accent-text hover:underline">
            Add one
          </Link>{" "}
          so agents can answer.
        </p>
      ) : (
        <ul className="flex flex-col gap-2">
          {list.slice(0, 5).map((provider) => (
            <li key={provider.id} className="flex items-center justify-between gap-2 text-sm">
              <span className="truncate text-fg">{provider.name}</span>
              <ConnectionStatus provider={provider} />
            </li>
          ))}
          {untested.length ? (
            <li className="pt-1">
              <Button
                size="sm"
                busy={check.isPending}
                onClick={testUntested}
                icon={<Zap aria-hidden className="size-4" />}
              >
                Test {untested.length === 1 ? "connection" : `${untested.length} providers`}
              </Button>
            </li>
          ) : null}
        </ul>
      )}
    </StatusCard>
  );
}

function ModelHealthCard() {
  const { pending, error, health } = useAgentModelHealth();
  const healthy = health.filter((h) => h.ok);
  return (
    <StatusCard
      title="Model allowlist health"
      icon={<Cpu />}
      link={{ to: "/agents", label: "Agents" }}
      summary={pending ? null : `${healthy.length} of ${health.length} agents served`}
    >
      {pending ? (
        <Skeleton className="h-16" />
      ) : error ? (
        <LoadError message={errorMessage(error)} />
      ) : health.length === 0 ? (
        <p className="text-sm text-fg-muted">No agents yet.</p>
      ) : (
        <ul className="flex flex-col gap-2">
          {health.map((agent) => (
            <li key={agent.id} className="text-sm">
              <div className="flex items-center justify-between gap-2">
                <Link to={`/agents/${agent.id}`} className="truncate text-fg hover:underline">
                  {agent.name}
                </Link>
                {agent.ok ? (
                  <StatusDot tone="success">{agent.provider}</StatusDot>
                ) : (
                  <StatusDot tone="danger">No provider</StatusDot>
                )}
              </div>
              {agent.model ? <p className="truncate font-mono text-xs text-fg-subtle">{agent.model}</p> : null}
            </li>
          ))}
        </ul>
      )}
    </StatusCard>
  );
}

const RUN_TONES: Record<RunState, { tone: Tone; label: string }> = {
  queued: { tone: "neutral", label: "Queued" },
  running: { tone: "accent", label: "Running" },
  succeeded: { tone: "success", label: "Succeeded" },
  failed: { tone: "danger", label: "Failed" },
  canceled: { tone: "neutral", label: "Canceled" },
};

function LastRunCard() {
  const last = useLastRun();
  const data = last.data;
  return (
    <StatusCard
      title="Last run"
      icon={<History />}
      summary={data ? RUN_TONES[data.run.state].label : null}
      link={data ? { to: `/conversations/${data.conversationId}`, label: "Open" } : undefined}
    >
      {last.isPending ? (
        <Skeleton className="h-16" />
      ) : last.isError ? (
        <LoadError message={errorMessage(last.error)} onRetry={() => last.refetch()} />
      ) : !data ? (
        <p className="text-sm text-fg-muted">Nothing has run yet. Start a conversation to see it here.</p>
      ) : (
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
          <dt className="text-fg-muted">In</dt>
          <dd className="truncate text-fg">{data.conversationTitle}</dd>
          <dt className="text-fg-muted">Model</dt>
          <dd className="truncate font-mono text-xs leading-5 text-fg">
            {data.model ?? "—"}
            {data.provider ? <span className="font-sans text-fg-subtle"> · {data.provider}</span> : null}
          </dd>
          <dt className="text-fg-muted">Tokens</dt>
          <dd className="text-fg">
            {data.tokens?.toLocaleString() ?? "—"}
            {data.cachedTokens ? (
              <span className="text-fg-subtle"> · {data.cachedTokens.toLocaleString()} cached</span>
            ) : null}
          </dd>
          <dt className="text-fg-muted">When</dt>
          <dd className="text-fg">{relativeTime(data.run.finishedAt ?? data.run.startedAt ?? data.run.queuedAt)}</dd>
          {data.run.error ? (
            <>
              <dt className="text-fg-muted">Error</dt>
              <dd className="text-danger-text">{data.run.error.message}</dd>
            </>
          ) : null}
        </dl>
      )}
    </StatusCard>
  );
}

function RecentConversations() {
  const list = useConversationList({ q: "", archived: false });
  const recent = list.data?.pages[0]?.conversations.slice(0, 6) ?? [];
  return (
    <section aria-labelledby="recent-heading">
      <div className="mb-3 flex items-center justify-between">
        <h2 id="recent-heading" className="text-base font-semibold text-fg">
          Recent conversations
        </h2>
        <Link to="/conversations" className="text-sm font-medium text-accent-text hover:underline">
          New conversation
        </Link>
      </div>
      {list.isPending ? (
        <Skeleton className="h-40 rounded-xl" />
      ) : list.isError ? (
        <LoadError message={errorMessage(list.error)} onRetry={() => list.refetch()} />
      ) : recent.length === 0 ? (
        <Card>
          <EmptyState icon={<Sparkles />} title="No conversations yet">
            <Link to="/conversations" className="font-medium text-accent-text hover:underline">
              Start one
            </Link>{" "}
            with the bundled assistant.
          </EmptyState>
        </Card>
      ) : (
        <Card>
          <ul className="divide-y divide-line">
            {recent.map((conversation) => (
              <li key={conversation.id}>
                <Link
                  to={`/conversations/${conversation.id}`}
                  className="flex items-center gap-3 px-4 py-3 transition-colors hover:bg-surface-2"
                >
                  <MessageSquare aria-hidden className="size-4 shrink-0 text-fg-subtle" />
                  <span className="min-w-0 flex-1">
                    <span className="block truncate text-sm font-medium text-fg">
                      {conversation.title || "Untitled"}
                    </span>
                    <span className="block truncate text-xs text-fg-subtle">{conversation.agentName}</span>
                  </span>
                  <span className="shrink-0 text-xs text-fg-subtle">{relativeTime(conversation.lastMessageAt)}</span>
                </Link>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </section>
  );
}
