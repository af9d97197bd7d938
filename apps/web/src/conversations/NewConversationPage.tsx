import type { AgentSummary } from "@cybros/protocol";
import { Bot, Check, ChevronDown, Plus } from "lucide-react";
import { useMemo, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { useAgents } from "../agents/queries";
import { Composer } from "../chat/Composer";
import { type RowActions, UserMessage } from "../chat/MessageRow";
import { addLocalMessage, emptyChatState, setLocalStatus } from "../chat/reconciler";
import { newClientId } from "../chat/session";
import { errorMessage } from "../lib/api";
import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import { ButtonLink, LoadError, Menu, useToast } from "../ui";
import { chooseAgent, rememberAgent } from "./agentChoice";
import { useCreateConversation } from "./queries";

const NO_ACTIONS: RowActions = {
  stop: () => {},
  retry: () => {},
  restart: () => {},
  resend: () => {},
  discard: () => {},
  inspect: () => {},
};

/**
 * /conversations — a new conversation: the composer at once, with the last used (or the default) agent and a
 * switcher above it. The first send creates the conversation and opens it, message and reply already showing.
 */
export function NewConversationPage() {
  useTitle("New conversation");
  const agents = useAgents();
  const [params, setParams] = useSearchParams();
  const agent = agents.data ? chooseAgent(agents.data, params.get("agent")) : null;
  const create = useCreateConversation();
  const navigate = useNavigate();
  const toast = useToast();
  const [sending, setSending] = useState<{ text: string; clientMessageId: string } | null>(null);

  const send = async (text: string) => {
    if (!agent) return;
    const message = { content: text.trim(), clientMessageId: newClientId() };
    setSending({ text: message.content, clientMessageId: message.clientMessageId });
    try {
      const started = await create.mutateAsync({ agentProgramId: agent.id, message });
      rememberAgent(agent.id);
      navigate(`/conversations/${started.conversation.id}`, {
        state: { started: { ...started, clientMessageId: message.clientMessageId } },
      });
    } catch (error) {
      setSending(null);
      toast.show(`Not sent: ${errorMessage(error)}`, "danger");
      throw error;
    }
  };

  const noAgents = agents.isSuccess && agents.data.length === 0;
  return (
    <>
      <PageHeader title="New conversation" isPageHeading={false} />
      <div className="relative flex min-h-0 flex-1 flex-col">
        <div className="min-h-0 flex-1 overflow-y-auto">
          <div className="mx-auto w-full max-w-3xl px-4 pt-4 pb-6 md:px-6">
            {sending ? (
              <SentMessage {...sending} />
            ) : (
              <div className="flex min-h-[40vh] flex-col items-center justify-center text-center">
                <h1 className="text-2xl font-semibold text-fg">What can I help with?</h1>
                {agents.isError ? (
                  <div className="mt-6 w-full max-w-md">
                    <LoadError message={errorMessage(agents.error)} onRetry={() => agents.refetch()} />
                  </div>
                ) : noAgents ? (
                  <div className="mt-4 text-sm text-fg-muted">
                    There is no agent to talk to yet.
                    <div className="mt-3">
                      <ButtonLink to="/agents" variant="primary" icon={<Plus aria-hidden className="size-4" />}>
                        Create an agent
                      </ButtonLink>
                    </div>
                  </div>
                ) : (
                  <p className="mt-2 max-w-md text-sm text-fg-muted">
                    {agent?.description || "Send a message to start a conversation."}
                  </p>
                )}
              </div>
            )}
          </div>
        </div>
        {noAgents ? null : (
          <Composer
            conversationId="new"
            running={false}
            stopping={false}
            onSend={send}
            onStop={() => {}}
            disabled={!agent || sending !== null}
            accessory={
              agents.data && agent ? (
                <AgentSwitcher
                  agents={agents.data}
                  current={agent}
                  onChoose={(chosen) => setParams({ agent: chosen.id }, { replace: true })}
                />
              ) : null
            }
          />
        )}
      </div>
    </>
  );
}

/** The first message while the conversation is being created, drawn as the chat will show it. */
function SentMessage({ text, clientMessageId }: { text: string; clientMessageId: string }) {
  const message = useMemo(() => {
    const chat = addLocalMessage(emptyChatState("new"), { clientMessageId, text, now: Date.now() });
    return setLocalStatus(chat, clientMessageId, "sending").messages.get(`local:${clientMessageId}`)!;
  }, [text, clientMessageId]);
  return (
    <ol aria-label="Messages" className="flex flex-col">
      <li>
        <UserMessage message={message} actions={NO_ACTIONS} />
      </li>
    </ol>
  );
}

/** Who the new conversation is with: a small menu button, one line, so it never crowds the message box. */
function AgentSwitcher({
  agents,
  current,
  onChoose,
}: {
  agents: readonly AgentSummary[];
  current: AgentSummary;
  onChoose: (agent: AgentSummary) => void;
}) {
  return (
    <Menu
      align="start"
      items={agents.map((agent) => ({
        label: agent.name,
        icon: agent.id === current.id ? <Check aria-hidden /> : <span aria-hidden />,
        onSelect: () => onChoose(agent),
      }))}
      trigger={(props) => (
        <button
          {...props}
          type="button"
          aria-label={`Agent: ${current.name}. Choose another agent`}
          className="inline-flex max-w-full min-w-0 items-center gap-1.5 rounded-full px-2.5 py-1 text-sm text-fg-muted transition-colors hover:bg-surface-2 hover:text-fg"
        >
          <Bot aria-hidden className="size-4 shrink-0" />
          <span className="truncate">{current.name}</span>
          <ChevronDown aria-hidden className="size-3.5 shrink-0" />
        </button>
      )}
    />
  );
}
