import type { ProviderView } from "@cybros/protocol";
import { MoreHorizontal, Pencil, Plug, Plus, Power, PowerOff, Trash2, Zap } from "lucide-react";
import { useState } from "react";
import { errorMessage } from "../lib/api";
import { relativeTime } from "../lib/time";
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  IconButton,
  LoadError,
  Menu,
  Section,
  Skeleton,
  StatusDot,
  useToast,
} from "../ui";
import { keyStatus } from "./form";
import { ProviderDialog } from "./ProviderDialog";
import { useCheckConnection, useDeleteProvider, useProviders, useSaveProvider } from "./queries";

/** /system/settings → LLM providers: the list with status, and add / edit / test / enable / delete. */
export function ProvidersSection() {
  const providers = useProviders();
  const [editing, setEditing] = useState<ProviderView | "new" | null>(null);
  const [deleting, setDeleting] = useState<ProviderView | null>(null);
  const remove = useDeleteProvider();
  const toast = useToast();

  return (
    <Section
      id="providers"
      title="LLM providers"
      description="Where agents’ models come from. A model is served by the highest-priority enabled provider that allows it."
      action={
        <Button
          variant="primary"
          size="sm"
          icon={<Plus aria-hidden className="size-4" />}
          onClick={() => setEditing("new")}
        >
          Add provider
        </Button>
      }
    >
      {providers.isPending ? (
        <div className="flex flex-col gap-3">
          <Skeleton className="h-24 rounded-xl" />
          <Skeleton className="h-24 rounded-xl" />
        </div>
      ) : providers.isError ? (
        <LoadError message={errorMessage(providers.error)} onRetry={() => providers.refetch()} />
      ) : providers.data.length === 0 ? (
        <Card>
          <EmptyState
            icon={<Plug />}
            title="No providers yet"
            action={
              <Button variant="primary" onClick={() => setEditing("new")}>
                Add provider
              </Button>
            }
          >
            Add an OpenAI-compatible endpoint so agents can answer. Use <code className="font-mono">/mock_llm/v1</code>{" "}
            to try Cybros without a key.
          </EmptyState>
        </Card>
      ) : (
        <ul className="flex flex-col gap-3">
          {providers.data.map((provider) => (
            <ProviderRow
              key={provider.id}
              provider={provider}
              onEdit={() => setEditing(provider)}
              onDelete={() => setDeleting(provider)}
            />
          ))}
        </ul>
      )}

      {editing ? (
        <ProviderDialog provider={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "provider"}?`}
        description="Agents that rely on its models will stop answering until another provider serves them. Its stored API key is deleted too."
        confirmLabel="Delete provider"
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onCancel={() => {
          setDeleting(null);
          remove.reset();
        }}
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.id, {
            onSuccess: () => {
              toast.show(`${deleting.name} deleted`);
              setDeleting(null);
            },
          })
        }
      />
    </Section>
  );
}

export function ConnectionStatus({ provider }: { provider: ProviderView }) {
  if (!provider.enabled) return <StatusDot tone="neutral">Disabled</StatusDot>;
  if (!provider.lastCheck) return <StatusDot tone="neutral">Not tested yet</StatusDot>;
  const when = relativeTime(provider.lastCheck.checkedAt);
  return provider.lastCheck.ok ? (
    <StatusDot tone="success">Connected · {when}</StatusDot>
  ) : (
    <StatusDot tone="danger">Failed · {when}</StatusDot>
  );
}

function ProviderRow({
  provider,
  onEdit,
  onDelete,
}: {
  provider: ProviderView;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const check = useCheckConnection();
  const save = useSaveProvider();
  const toast = useToast();
  const shownModels = provider.modelAllowlist.slice(0, 4);
  const moreModels = provider.modelAllowlist.length - shownModels.length;
  const key = keyStatus(provider);

  const test = () =>
    check.mutate(provider.id, {
      onSuccess: ({ check: result }) =>
        toast.show(
          result.ok ? `${provider.name}: connected` : `${provider.name}: ${result.message}`,
          result.ok ? "neutral" : "danger",
        ),
      onError: (error) => toast.show(errorMessage(error), "danger"),
    });

  return (
    <li>
      <Card className="p-4">
        <div className="flex items-start gap-3">
          <div className="min-w-0 flex-1">
            <div className="flex flex-wrap items-center gap-2">
              <h3 className="font-medium text-fg">{provider.name}</h3>
              {provider.enabled ? null : <Badge>Disabled</Badge>}
              <Badge tone={key.tone}>{key.label}</Badge>
              {provider.priority !== 0 ? <Badge>Priority {provider.priority}</Badge> : null}
            </div>
            <p className="mt-1 truncate font-mono text-xs text-fg-subtle">{provider.baseUrl}</p>
          </div>
          <div className="flex shrink-0 items-center gap-1">
            <Button
              size="sm"
              icon={<Zap aria-hidden className="size-4" />}
              busy={check.isPending}
              onClick={test}
              disabled={!provider.enabled}
              className="max-sm:hidden"
            >
              Test connection
            </Button>
            <Menu
              items={[
                { label: "Edit", icon: <Pencil />, onSelect: onEdit },
                { label: "Test connection", icon: <Zap />, onSelect: test, disabled: !provider.enabled },
                provider.enabled
                  ? {
                      label: "Disable",
                      icon: <PowerOff />,
                      onSelect: () => save.mutate({ id: provider.id, input: { enabled: false } }),
                    }
                  : {
                      label: "Enable",
                      icon: <Power />,
                      onSelect: () => save.mutate({ id: provider.id, input: { enabled: true } }),
                    },
                { label: "Delete", icon: <Trash2 />, destructive: true, onSelect: onDelete },
              ]}
              trigger={(props) => (
                <IconButton {...props} label={`Options for ${provider.name}`} size="md">
                  <MoreHorizontal />
                </IconButton>
              )}
            />
          </div>
        </div>
        <div className="mt-3 flex flex-wrap items-center gap-1.5">
          {shownModels.map((model) => (
            <span key={model} className="rounded-md bg-surface-2 px-2 py-0.5 font-mono text-xs text-fg-muted">
              {model}
            </span>
          ))}
          {moreModels > 0 ? <span className="text-xs text-fg-subtle">+{moreModels} more</span> : null}
        </div>
        <div className="mt-3 flex flex-wrap items-center justify-between gap-2 border-t border-line pt-3">
          <ConnectionStatus provider={provider} />
          {provider.lastCheck && !provider.lastCheck.ok ? (
            <p
              className="min-w-0 flex-1 truncate text-right text-xs text-danger-text"
              title={provider.lastCheck.message}
            >
              {provider.lastCheck.message}
            </p>
          ) : null}
          <Button size="sm" variant="ghost" onClick={onEdit} icon={<Pencil aria-hidden className="size-4" />}>
            Edit
          </Button>
        </div>
      </Card>
    </li>
  );
}
