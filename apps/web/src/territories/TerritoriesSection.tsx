import type { TerritoryStatus, TerritorySummary } from "@cybros/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { Monitor, Plus, Server } from "lucide-react";
import { useState } from "react";
import { CopyButton } from "../chat/Markdown";
import { errorMessage } from "../lib/api";
import { relativeTime } from "../lib/time";
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  Dialog,
  EmptyState,
  LoadError,
  Section,
  Skeleton,
  Spinner,
  type Tone,
  useToast,
} from "../ui";
import { territoryKeys, useCreateEnrollmentToken, useRevokeTerritory, useTerritories } from "./queries";

const STATUS: Record<TerritoryStatus, { label: string; tone: Tone }> = {
  online: { label: "Online", tone: "success" },
  pending: { label: "Pending", tone: "accent" },
  offline: { label: "Offline", tone: "warning" },
  revoked: { label: "Revoked", tone: "danger" },
};

/** /system/settings → Territories: the machines that run agents' commands, adding one, revoking one. */
export function TerritoriesSection() {
  const territories = useTerritories();
  const [adding, setAdding] = useState(false);
  const [revoking, setRevoking] = useState<TerritorySummary | null>(null);
  const revoke = useRevokeTerritory();
  const enrollment = useCreateEnrollmentToken();
  const toast = useToast();

  const add = () => {
    enrollment.reset();
    enrollment.mutate();
    setAdding(true);
  };
  const addButton = (
    <Button size="sm" icon={<Plus aria-hidden className="size-4" />} onClick={add}>
      Add a machine
    </Button>
  );

  return (
    <Section
      id="territories"
      title="Territories"
      description="Machines where agents run commands. This computer runs with the server; add others with a one-time command."
      action={addButton}
    >
      {territories.isPending ? (
        <Skeleton className="h-28 rounded-xl" />
      ) : territories.isError ? (
        <LoadError message={errorMessage(territories.error)} onRetry={() => territories.refetch()} />
      ) : territories.data.length === 0 ? (
        <Card>
          <EmptyState icon={<Server />} title="No machines yet" action={addButton}>
            The built-in one is off (<code className="font-mono">CYBROS_LOCAL_NEXUS=off</code>). Add a machine to let
            agents run commands there.
          </EmptyState>
        </Card>
      ) : (
        <ul className="flex flex-col gap-3">
          {territories.data.map((territory) => (
            <TerritoryRow key={territory.id} territory={territory} onRevoke={() => setRevoking(territory)} />
          ))}
        </ul>
      )}

      {adding ? <AddMachineDialog enrollment={enrollment} onClose={() => setAdding(false)} /> : null}
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? "machine"}?`}
        description="Its Nexus is refused from now on. Commands waiting for it are canceled; a running one ends when its lease lapses. To use the machine again, add it anew."
        confirmLabel="Revoke"
        busy={revoke.isPending}
        error={revoke.error ? errorMessage(revoke.error) : null}
        onCancel={() => {
          setRevoking(null);
          revoke.reset();
        }}
        onConfirm={() =>
          revoking &&
          revoke.mutate(revoking.id, {
            onSuccess: () => {
              toast.show(`${revoking.name} revoked`);
              setRevoking(null);
            },
          })
        }
      />
    </Section>
  );
}

function TerritoryRow({ territory, onRevoke }: { territory: TerritorySummary; onRevoke: () => void }) {
  const status = STATUS[territory.status];
  const Icon = territory.local ? Monitor : Server;
  return (
    <li>
      <Card className="p-4">
        <div className="flex items-start gap-3">
          <Icon aria-hidden className="mt-0.5 size-5 shrink-0 text-fg-subtle" />
          <div className="min-w-0 flex-1">
            <div className="flex flex-wrap items-center gap-2">
              <h3 className="min-w-0 truncate font-medium text-fg" title={territory.name}>
                {territory.name}
              </h3>
              {territory.local ? <Badge tone="neutral">This computer</Badge> : null}
              <Badge tone={status.tone}>
                <span aria-hidden className="size-1.5 rounded-full bg-current" />
                {status.label}
              </Badge>
            </div>
            {territory.local ? (
              <p className="mt-0.5 text-sm text-fg-muted">
                Runs inside the Cybros server; workspaces live in its data folder.
              </p>
            ) : null}
          </div>
          {!territory.local && territory.status !== "revoked" ? (
            <Button size="sm" variant="ghost" onClick={onRevoke} aria-label={`Revoke ${territory.name}`}>
              Revoke
            </Button>
          ) : null}
        </div>
        <dl className="mt-3 grid grid-cols-2 gap-x-4 gap-y-2 border-t border-line pt-3 text-sm sm:grid-cols-4">
          <Detail term="Platform">
            <span className="font-mono text-xs">{territory.platform}</span>
          </Detail>
          <Detail term="Drivers">
            {territory.drivers.length ? (
              <span className="flex flex-wrap gap-1">
                {territory.drivers.map((driver) => (
                  <span key={driver} className="rounded-md bg-surface-2 px-1.5 py-0.5 font-mono text-xs text-fg-muted">
                    {driver}
                  </span>
                ))}
              </span>
            ) : (
              "—"
            )}
          </Detail>
          <Detail term="Running">
            {territory.running} of {territory.capacity}
          </Detail>
          <Detail term="Last seen">
            <span title={territory.lastSeenAt ? new Date(territory.lastSeenAt).toLocaleString() : undefined}>
              {relativeTime(territory.lastSeenAt)}
            </span>
          </Detail>
        </dl>
      </Card>
    </li>
  );
}

function Detail({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-fg-subtle">{term}</dt>
      <dd className="mt-0.5 text-fg">{children}</dd>
    </div>
  );
}

/** The one-time enrollment token asked for when the dialog opened, as the commands that use it. */
function AddMachineDialog({
  enrollment: create,
  onClose,
}: {
  enrollment: ReturnType<typeof useCreateEnrollmentToken>;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const close = () => {
    // The machine shows up (pending) once it enrolls; the list's refresh picks it up from here on.
    void client.invalidateQueries({ queryKey: territoryKeys.list });
    onClose();
  };
  const expires = create.data ? new Date(create.data.expiresAt) : null;

  return (
    <Dialog
      open
      onClose={close}
      title="Add a machine"
      description="On the machine that should run agents’ commands (Node.js 20.19 or newer), run these two commands."
      footer={
        <Button variant="primary" onClick={close}>
          Done
        </Button>
      }
    >
      {create.isError ? (
        <LoadError message={errorMessage(create.error)} onRetry={() => create.mutate()} />
      ) : !create.data || !expires ? (
        <Spinner label="Creating a one-time token" />
      ) : (
        <div className="flex flex-col gap-4">
          <CommandBlock
            step="1. Enroll it"
            copyLabel="Copy the enroll command"
            command={create.data.command}
            note={
              <>
                The token works once, until{" "}
                <time dateTime={create.data.expiresAt}>
                  {expires.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" })}
                </time>
                . It is shown only now.
              </>
            }
          />
          <CommandBlock step="2. Start it" copyLabel="Copy the run command" command="npx cybros-nexus run" />
          <p className="text-xs text-fg-subtle">
            <code className="font-mono">npx cybros-nexus</code> needs a copy of the Cybros repository. Without one, copy
            the single file <code className="font-mono">npm run build:nexus</code> writes (
            <code className="font-mono">packages/nexus/dist/cybros-nexus.mjs</code>) and run{" "}
            <code className="font-mono">node cybros-nexus.mjs</code> in its place.
          </p>
        </div>
      )}
    </Dialog>
  );
}

function CommandBlock({
  step,
  command,
  copyLabel,
  note,
}: {
  step: string;
  command: string;
  copyLabel: string;
  note?: React.ReactNode;
}) {
  return (
    <div>
      <p className="mb-1.5 text-sm font-medium text-fg">{step}</p>
      <div className="overflow-hidden rounded-xl border border-line bg-surface-2">
        <div className="flex h-9 items-center justify-between gap-2 border-b border-line px-3 text-xs text-fg-subtle">
          <span className="font-mono">shell</span>
          <CopyButton text={command} label={copyLabel} />
        </div>
        <pre className="overflow-x-auto p-3 text-[13px] leading-relaxed">
          <code className="font-mono break-all whitespace-pre-wrap">{command}</code>
        </pre>
      </div>
      {note ? <p className="mt-1.5 text-xs text-fg-muted">{note}</p> : null}
    </div>
  );
}
