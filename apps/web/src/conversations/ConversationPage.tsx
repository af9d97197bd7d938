import type { ConversationDetail } from "@cybros/protocol";
import { AlertTriangle, Archive, Folder, MessageSquareX, MoreHorizontal } from "lucide-react";
import { useEffect } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { ConversationView } from "../chat";
import type { ChatSessionOptions } from "../chat/session";
import { ApiError, errorMessage } from "../lib/api";
import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import { Button, ButtonLink, EmptyState, IconButton, LoadError, Menu, Spinner } from "../ui";
import { useConversationActions } from "./actions";
import { useArchiveConversation, useConversation } from "./queries";

/** /conversations/:id — the header (title, agent, actions, warnings) above the chat view. */
export function ConversationPage() {
  const { id = "" } = useParams();
  const detail = useConversation(id);
  const { itemsFor, dialogs } = useConversationActions();
  useTitle(detail.data?.conversation.title ?? "Conversation");
  const started = useStartedHere(id);

  if (detail.isPending) {
    return (
      <>
        <PageHeader title={<span className="text-fg-subtle">Loading…</span>} />
        <div className="flex flex-1 items-center justify-center">
          <Spinner label="Loading conversation" />
        </div>
      </>
    );
  }
  if (detail.isError) {
    const missing = detail.error instanceof ApiError && detail.error.status === 404;
    return (
      <>
        <PageHeader title="Conversation" />
        <div className="flex flex-1 items-center justify-center p-6">
          {missing ? (
            <EmptyState
              icon={<MessageSquareX />}
              title="This conversation does not exist"
              action={
                <ButtonLink to="/conversations" variant="primary">
                  Start a new conversation
                </ButtonLink>
              }
            >
              It may have been deleted.
            </EmptyState>
          ) : (
            <LoadError message={errorMessage(detail.error)} onRetry={() => detail.refetch()} />
          )}
        </div>
      </>
    );
  }

  const { conversation, workspace } = detail.data;
  return (
    <>
      <PageHeader
        title={conversation.title || "Untitled"}
        subtitle={
          workspace ? (
            <span className="flex min-w-0 items-center gap-1.5">
              <span className="max-w-[45%] shrink-0 truncate">{conversation.agentName}</span>
              <span aria-hidden>·</span>
              <WorkspaceLabel workspace={workspace} />
            </span>
          ) : (
            conversation.agentName
          )
        }
        actions={
          <Menu
            items={itemsFor(conversation)}
            trigger={(props) => (
              <IconButton {...props} label="Conversation options">
                <MoreHorizontal />
              </IconButton>
            )}
          />
        }
      />
      <ConversationBanners detail={detail.data} />
      <div className="flex min-h-0 flex-1 flex-col">
        <ConversationView key={conversation.id} conversationId={conversation.id} started={started} />
      </div>
      {dialogs}
    </>
  );
}

/**
 * The first send, when this conversation was just created by it on /conversations (router state). Taken once:
 * the history entry forgets it, so a reload or a later visit loads the conversation as usual.
 */
function useStartedHere(id: string): ChatSessionOptions["started"] {
  const location = useLocation();
  const navigate = useNavigate();
  const started = (location.state as { started?: ChatSessionOptions["started"] } | null)?.started;
  useEffect(() => {
    if (started) navigate(location.pathname, { replace: true, state: null });
  }, [started, navigate, location.pathname]);
  return started?.message.conversationId === id ? started : undefined;
}

/**
 * Where this conversation's coding tools run: the folder (its end stays visible when it is cut), the machine, and
 * whether that machine is offline. A scratch folder the machine keeps has no path to show.
 */
function WorkspaceLabel({ workspace }: { workspace: NonNullable<ConversationDetail["workspace"]> }) {
  const { path, territory, online } = workspace;
  const where = path ?? "a scratch folder";
  return (
    <span
      className="flex min-w-0 items-center gap-1"
      data-workspace={path ?? ""}
      title={`Workspace: ${where} on ${territory}${online ? "" : " (offline)"}`}
    >
      <Folder aria-hidden className="size-3 shrink-0" />
      <span className="sr-only">Workspace: </span>
      {path ? (
        // Cut at the start, not the end: the folder's own name is the part that tells projects apart.
        <span className="min-w-0 truncate font-mono [direction:rtl]">
          <bdi>{path}</bdi>
        </span>
      ) : (
        <span className="min-w-0 truncate">Scratch folder</span>
      )}
      <span className="shrink-0 whitespace-nowrap">
        <span className="sr-only">on</span> · {territory}
      </span>
      {online ? null : (
        <span className="shrink-0 rounded bg-warning-soft px-1 font-medium text-warning-text" data-workspace-offline>
          offline
        </span>
      )}
    </span>
  );
}

/** Archived state and the provider/model mismatch, said plainly with a way to fix each. */
export function ConversationBanners({ detail }: { detail: ConversationDetail }) {
  const archive = useArchiveConversation();
  const { conversation, modelWarning } = detail;
  return (
    <>
      {conversation.archivedAt ? (
        <div className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-line bg-surface-2 px-4 py-2.5 text-sm text-fg-muted md:px-5">
          <Archive aria-hidden className="size-4 shrink-0" />
          <span className="min-w-0 flex-1">
            This conversation is archived. Restore it to see it in your list again.
          </span>
          <Button
            size="sm"
            busy={archive.isPending}
            onClick={() => archive.mutate({ id: conversation.id, archived: false })}
          >
            Restore
          </Button>
        </div>
      ) : null}
      {modelWarning ? (
        <div
          role="alert"
          className="flex items-start gap-3 border-b border-warning-line bg-warning-soft px-4 py-3 text-sm text-warning-text md:px-5"
        >
          <AlertTriangle aria-hidden className="mt-0.5 size-4 shrink-0" />
          <div className="min-w-0 flex-1">
            <p className="font-medium">No provider serves this agent’s models</p>
            <p className="mt-0.5 opacity-90">
              {modelWarning.models.length ? (
                <>
                  No enabled provider allows{" "}
                  {modelWarning.models.map((m, i) => (
                    <span key={m}>
                      {i > 0 ? (i === modelWarning.models.length - 1 ? " or " : ", ") : ""}
                      <code className="rounded bg-black/5 px-1 font-mono text-xs dark:bg-white/10">{m}</code>
                    </span>
                  ))}
                  , so replies will fail until one does.
                </>
              ) : (
                modelWarning.message
              )}{" "}
              <Link
                to="/system/settings#providers"
                className="font-medium whitespace-nowrap underline underline-offset-2 hover:no-underline"
              >
                Fix in System settings
              </Link>
            </p>
          </div>
        </div>
      ) : null}
    </>
  );
}
