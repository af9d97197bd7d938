import type { AgentDetail, ModelResolution } from "@cybros/protocol";
import { AlertTriangle, Bot, FileCode2, FileText, GitCommitHorizontal, MessageSquarePlus } from "lucide-react";
import { type KeyboardEvent, useId, useMemo, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { CodeBlock, Markdown } from "../chat/Markdown";
import { newConversationPath } from "../conversations/agentChoice";
import { ApiError, errorMessage } from "../lib/api";
import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import { Badge, ButtonLink, Card, cn, EmptyState, LoadError, Section, Skeleton, StatusDot } from "../ui";
import { agentOrigin } from "./origin";
import { useAgent } from "./queries";

/** /agents/:id — read-only: what the agent is made of and whether its models can be served. */
export function AgentDetailPage() {
  const { id = "" } = useParams();
  const detail = useAgent(id);
  useTitle(detail.data?.agent.name ?? "Agent");

  if (detail.isPending) {
    return (
      <>
        <PageHeader title={<span className="text-fg-subtle">Loading…</span>} />
        <div className="mx-auto flex w-full max-w-5xl flex-col gap-4 px-4 py-8 md:px-8">
          <Skeleton className="h-24 rounded-xl" />
          <Skeleton className="h-64 rounded-xl" />
        </div>
      </>
    );
  }
  if (detail.isError) {
    const missing = detail.error instanceof ApiError && detail.error.status === 404;
    return (
      <>
        <PageHeader title="Agent" />
        <div className="flex flex-1 items-center justify-center p-6">
          {missing ? (
            <EmptyState
              icon={<Bot />}
              title="This agent does not exist"
              action={<ButtonLink to="/agents">All agents</ButtonLink>}
            />
          ) : (
            <LoadError message={errorMessage(detail.error)} onRetry={() => detail.refetch()} />
          )}
        </div>
      </>
    );
  }

  const data = detail.data;
  const { agent } = data;
  const origin = agentOrigin(agent);
  return (
    <>
      <PageHeader
        newConversation={false}
        title={agent.name}
        subtitle={agent.bundled ? "Bundled agent" : origin ? `Created from ${origin}` : "Created blank"}
        actions={
          data.loadError ? null : (
            <ButtonLink
              to={newConversationPath(agent.id)}
              aria-label={`New conversation with ${agent.name}`}
              variant="primary"
              size="sm"
              icon={<MessageSquarePlus aria-hidden className="size-4" />}
            >
              <span className="max-sm:sr-only">New conversation</span>
            </ButtonLink>
          )
        }
      />
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto flex max-w-5xl flex-col gap-8 px-4 py-6 md:px-8 md:py-8">
          {data.loadError ? (
            <div
              role="alert"
              className="rounded-xl border border-line bg-danger-soft px-4 py-3 text-sm text-danger-text"
            >
              <p className="font-medium">This agent does not load</p>
              <p className="mt-0.5 font-mono text-xs">{data.loadError}</p>
            </div>
          ) : null}
          {data.warnings.length ? (
            <div className="rounded-xl border border-warning-line bg-warning-soft px-4 py-3 text-sm text-warning-text">
              <p className="font-medium">Warnings</p>
              <ul className="mt-1 list-disc pl-5">
                {data.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </div>
          ) : null}
          {agent.description ? <p className="max-w-3xl text-fg-muted">{agent.description}</p> : null}

          <div className="grid items-start gap-4 lg:grid-cols-2">
            <ModelsCard detail={data} />
            <div className="flex flex-col gap-4">
              <Card className="p-4">
                <h2 className="text-sm font-semibold text-fg">Tools</h2>
                {data.tools.length ? (
                  <ul className="mt-3 flex flex-wrap gap-1.5">
                    {data.tools.map((tool) => (
                      <li key={tool} className="rounded-md bg-surface-2 px-2 py-0.5 font-mono text-xs text-fg-muted">
                        {tool}
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p className="mt-2 text-sm text-fg-subtle">This agent uses no tools.</p>
                )}
              </Card>
              <Card className="p-4">
                <h2 className="text-sm font-semibold text-fg">Skills</h2>
                {data.skills.length ? (
                  <ul className="mt-2 flex flex-col gap-2">
                    {data.skills.map((skill) => (
                      <li key={skill.name} className="text-sm">
                        <span className="font-medium text-fg">{skill.name}</span>
                        <span className="text-fg-muted"> — {skill.description}</span>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p className="mt-2 text-sm text-fg-subtle">No skills.</p>
                )}
              </Card>
              <Card className="p-4">
                <h2 className="text-sm font-semibold text-fg">Repository</h2>
                <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm">
                  <dt className="text-fg-muted">Folder</dt>
                  <dd className="min-w-0 truncate font-mono text-xs leading-5 text-fg" title={data.localPath}>
                    {data.localPath}
                  </dd>
                  <dt className="text-fg-muted">Commit</dt>
                  <dd className="font-mono text-xs leading-5 text-fg">
                    {data.gitCommit ? (
                      <span className="inline-flex items-center gap-1" title={data.gitCommit}>
                        <GitCommitHorizontal aria-hidden className="size-3.5" />
                        {data.gitCommit.slice(0, 10)}
                      </span>
                    ) : (
                      <span className="font-sans text-fg-subtle">Not a git repository</span>
                    )}
                  </dd>
                </dl>
              </Card>
            </div>
          </div>

          <FilesViewer detail={data} />
        </div>
      </div>
    </>
  );
}

function ProviderCell({ resolution }: { resolution: ModelResolution }) {
  return resolution.provider ? (
    <StatusDot tone="success">{resolution.provider.name}</StatusDot>
  ) : (
    <StatusDot tone="danger">No provider</StatusDot>
  );
}

/** Preferred models in order, and which provider would serve each right now. */
function ModelsCard({ detail }: { detail: AgentDetail }) {
  const served = detail.models.find((m) => m.provider);
  const fallback = detail.defaultModel?.provider ? detail.defaultModel : null;
  return (
    <Card className="p-4">
      <h2 className="text-sm font-semibold text-fg">Preferred models</h2>
      {detail.models.length ? (
        <table className="mt-2 w-full text-sm">
          <thead>
            <tr className="text-left text-xs text-fg-subtle">
              <th scope="col" className="py-1.5 font-medium">
                Model
              </th>
              <th scope="col" className="py-1.5 font-medium">
                Served by
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-line">
            {detail.models.map((resolution) => (
              <tr key={resolution.model}>
                <td className="py-2 pr-3 font-mono text-xs break-all text-fg">
                  {resolution.model}
                  {resolution === served ? (
                    <Badge tone="accent" className="ml-2 font-sans">
                      in use
                    </Badge>
                  ) : null}
                </td>
                <td className="py-2">
                  <ProviderCell resolution={resolution} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="mt-2 text-sm text-fg-subtle">No preference; the account’s default model is used.</p>
      )}
      {detail.defaultModel ? (
        <p className="mt-3 flex flex-wrap items-center gap-x-2 gap-y-1 border-t border-line pt-3 text-sm text-fg-muted">
          Default model <code className="font-mono text-xs text-fg">{detail.defaultModel.model}</code>
          <ProviderCell resolution={detail.defaultModel} />
        </p>
      ) : null}
      {!served && !fallback ? (
        <div className="mt-3 flex items-start gap-2 rounded-lg bg-warning-soft px-3 py-2 text-sm text-warning-text">
          <AlertTriangle aria-hidden className="mt-0.5 size-4 shrink-0" />
          <p>
            No enabled provider serves these models, so this agent cannot answer.{" "}
            <Link to="/system/settings#providers" className="font-medium underline underline-offset-2">
              Fix in System settings
            </Link>
          </p>
        </div>
      ) : null}
    </Card>
  );
}

type ViewerFile = { path: string; content: string };

/** agent.yml and the program's text files as tabs; markdown rendered (sanitized), the rest as code. */
function FilesViewer({ detail }: { detail: AgentDetail }) {
  const files = useMemo<ViewerFile[]>(
    () => [
      ...(detail.manifestText !== null ? [{ path: "agent.yml", content: detail.manifestText }] : []),
      ...detail.files,
    ],
    [detail.manifestText, detail.files],
  );
  const [selected, setSelected] = useState(0);
  const tabs = useRef<Array<HTMLButtonElement | null>>([]);
  const baseId = useId();
  const current = files[Math.min(selected, files.length - 1)];

  const onKeyDown = (e: KeyboardEvent) => {
    const move = (to: number) => {
      const next = (to + files.length) % files.length;
      setSelected(next);
      tabs.current[next]?.focus();
    };
    if (e.key === "ArrowRight" || e.key === "ArrowDown") move(selected + 1);
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") move(selected - 1);
    else if (e.key === "Home") move(0);
    else if (e.key === "End") move(files.length - 1);
    else return;
    e.preventDefault();
  };

  return (
    <Section id="files" title="Files" description="What the agent is made of. Read-only for now.">
      {files.length === 0 || !current ? (
        <p className="text-sm text-fg-subtle">No files could be read.</p>
      ) : (
        <div className="@container">
          <Card className="overflow-hidden @2xl:grid @2xl:grid-cols-[220px_1fr]">
            <div
              role="tablist"
              aria-label="Agent files"
              aria-orientation="vertical"
              onKeyDown={onKeyDown}
              className="flex gap-1 overflow-x-auto border-b border-line bg-sidebar p-2 @2xl:flex-col @2xl:overflow-visible @2xl:border-r @2xl:border-b-0"
            >
              {files.map((file, index) => {
                const Icon = file.path.endsWith(".md") ? FileText : FileCode2;
                const active = file === current;
                return (
                  <button
                    key={file.path}
                    ref={(el) => {
                      tabs.current[index] = el;
                    }}
                    type="button"
                    role="tab"
                    id={`${baseId}-tab-${index}`}
                    aria-selected={active}
                    aria-controls={`${baseId}-panel`}
                    tabIndex={active ? 0 : -1}
                    onClick={() => setSelected(index)}
                    className={cn(
                      "flex shrink-0 items-center gap-2 rounded-md px-2.5 py-1.5 text-left text-sm whitespace-nowrap transition-colors",
                      active ? "bg-surface-3 font-medium text-fg" : "text-fg-muted hover:bg-surface-3/60 hover:text-fg",
                    )}
                  >
                    <Icon aria-hidden className="size-4 shrink-0 opacity-70" />
                    <span className="truncate" title={file.path}>
                      {file.path}
                    </span>
                  </button>
                );
              })}
            </div>
            <div
              role="tabpanel"
              id={`${baseId}-panel`}
              aria-labelledby={`${baseId}-tab-${files.indexOf(current)}`}
              className="min-w-0 p-4 @2xl:p-6"
            >
              {current.path.endsWith(".md") ? (
                <Markdown text={current.content} />
              ) : (
                <CodeBlock lang={languageOf(current.path)} code={current.content} />
              )}
            </div>
          </Card>
        </div>
      )}
    </Section>
  );
}

function languageOf(path: string): string {
  if (path.endsWith(".yml") || path.endsWith(".yaml")) return "yaml";
  if (path.endsWith(".liquid")) return "liquid";
  if (path.endsWith(".json")) return "json";
  return "text";
}
