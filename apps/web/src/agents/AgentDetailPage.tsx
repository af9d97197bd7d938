import type { AgentDetail, ModelResolution } from "@cybros/protocol";
import { AlertTriangle, Bot, GitCommitHorizontal, History, MessageSquarePlus, Trash2 } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { newConversationPath } from "../conversations/agentChoice";
import { ApiError, errorMessage } from "../lib/api";
import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import {
  Badge,
  Button,
  ButtonLink,
  Card,
  ConfirmDialog,
  EmptyState,
  LoadError,
  Skeleton,
  StatusDot,
  useToast,
} from "../ui";
import { AgentFiles } from "./AgentFiles";
import { agentOrigin } from "./origin";
import { useAgent, useDeleteAgent } from "./queries";

/** /agents/:id — what the agent is made of, its files to edit, and whether its models can be served. */
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
          <>
            <ButtonLink
              to={`/agents/${agent.id}/history`}
              size="sm"
              icon={<History aria-hidden className="size-4" />}
              aria-label="History"
            >
              <span className="max-sm:sr-only">History</span>
            </ButtonLink>
            {agent.bundled ? null : <DeleteAgentButton id={agent.id} name={agent.name} />}
            {data.loadError ? null : (
              <ButtonLink
                to={newConversationPath(agent.id)}
                aria-label={`New conversation with ${agent.name}`}
                variant="primary"
                size="sm"
                icon={<MessageSquarePlus aria-hidden className="size-4" />}
              >
                <span className="max-sm:sr-only">New conversation</span>
              </ButtonLink>
            )}
          </>
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

          <AgentFiles agentId={agent.id} />
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

/** Deletes after a confirmation; conversations with the agent stay readable under its name. */
function DeleteAgentButton({ id, name }: { id: string; name: string }) {
  const [open, setOpen] = useState(false);
  const remove = useDeleteAgent(id);
  const navigate = useNavigate();
  const toast = useToast();
  return (
    <>
      <Button
        size="sm"
        onClick={() => setOpen(true)}
        icon={<Trash2 aria-hidden className="size-4" />}
        aria-label="Delete agent"
      >
        <span className="max-sm:sr-only">Delete</span>
      </Button>
      <ConfirmDialog
        open={open}
        title={`Delete ${name}?`}
        description="Its files and history are removed from the agent list. Conversations with it stay readable, but it will not answer in them again."
        confirmLabel="Delete agent"
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onCancel={() => setOpen(false)}
        onConfirm={() =>
          remove.mutate(undefined, {
            onSuccess: () => {
              toast.show(`${name} deleted`);
              navigate("/agents", { replace: true });
            },
          })
        }
      />
    </>
  );
}
