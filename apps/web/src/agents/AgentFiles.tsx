import type { AgentStatus } from "@cybros/protocol";
import { AlertTriangle, FileCode2, FileText, Folder, GitCommitHorizontal, Plus, Undo2 } from "lucide-react";
import { useEffect, useId, useMemo, useState } from "react";
import { Link } from "react-router";
import { ApiError, errorMessage } from "../lib/api";
import { Badge, Button, Card, ConfirmDialog, cn, Field, Input, LoadError, Section, Skeleton, useToast } from "../ui";
import { CodeEditor } from "./CodeEditor";
import { languageOf } from "./highlight";
import {
  useAgentFile,
  useAgentFiles,
  useAgentStatus,
  useCommitAgentChanges,
  useDiscardAgentChanges,
  useSaveAgentFile,
} from "./queries";

/** Every file of the agent: a tree, an editor with colors, and Save = validate on the server, then commit. */
export function AgentFiles({ agentId }: { agentId: string }) {
  const files = useAgentFiles(agentId);
  const [selected, setSelected] = useState<string | null>(null);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  // Files added here and not saved yet: in the tree and the editor, on disk only once saved.
  const [added, setAdded] = useState<string[]>([]);
  const stored = files.data?.files.map((f) => f.path) ?? [];
  const unsavedNew = added.filter((path) => !stored.includes(path));
  const paths = [...stored, ...unsavedNew].sort();
  const current =
    selected && paths.includes(selected) ? selected : (paths.find((p) => p === "agent.yml") ?? paths[0] ?? null);
  const editable = files.data?.editable ?? false;
  const unsaved = Object.keys(drafts).length > 0;

  // Closing or reloading the tab with unsaved edits asks first (the browser's own prompt).
  useEffect(() => {
    if (!unsaved) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [unsaved]);

  return (
    <Section
      id="files"
      title="Files"
      description={
        editable ? (
          "Edit any file; saving checks the agent still loads, then records a version."
        ) : (
          <>
            Bundled agents are read-only.{" "}
            <Link to="/agents" className="underline underline-offset-2">
              Create a copy
            </Link>{" "}
            to edit one.
          </>
        )
      }
    >
      {editable ? <DiskChanges agentId={agentId} /> : null}
      {files.isPending ? (
        <Skeleton className="h-80 rounded-xl" />
      ) : files.isError ? (
        <LoadError message={errorMessage(files.error)} onRetry={() => files.refetch()} />
      ) : (
        <div className="@container">
          <Card className="overflow-hidden @2xl:grid @2xl:grid-cols-[220px_1fr]">
            <div className="flex flex-col border-b border-line bg-sidebar @2xl:border-r @2xl:border-b-0">
              <FileTree
                paths={paths}
                current={current}
                changed={new Set([...Object.keys(drafts), ...unsavedNew])}
                onSelect={setSelected}
              />
              {editable ? (
                <NewFile
                  existing={paths}
                  onAdd={(path) => {
                    setAdded((all) => [...all, path]);
                    setSelected(path);
                  }}
                />
              ) : null}
            </div>
            {current ? (
              <FileEditor
                key={current}
                agentId={agentId}
                path={current}
                editable={editable}
                isNew={unsavedNew.includes(current)}
                draft={drafts[current]}
                onDraft={(text) =>
                  setDrafts((all) => {
                    const { [current]: _, ...rest } = all;
                    return text === null ? rest : { ...rest, [current]: text };
                  })
                }
                onDiscardNew={() => setAdded((all) => all.filter((path) => path !== current))}
              />
            ) : (
              <p className="p-6 text-sm text-fg-subtle">This agent has no files.</p>
            )}
          </Card>
        </div>
      )}
    </Section>
  );
}

/** Files by folder, folders as headings; a file with unsaved edits carries a dot. */
function FileTree({
  paths,
  current,
  changed,
  onSelect,
}: {
  paths: string[];
  current: string | null;
  changed: Set<string>;
  onSelect: (path: string) => void;
}) {
  const rows = useMemo(() => {
    const out: Array<{ folder: string; depth: number } | { path: string; name: string; depth: number }> = [];
    const seen = new Set<string>();
    for (const path of paths) {
      const parts = path.split("/");
      for (let depth = 1; depth < parts.length; depth++) {
        const folder = parts.slice(0, depth).join("/");
        if (!seen.has(folder)) {
          seen.add(folder);
          out.push({ folder, depth: depth - 1 });
        }
      }
      out.push({ path, name: parts.at(-1)!, depth: parts.length - 1 });
    }
    return out;
  }, [paths]);
  return (
    <nav aria-label="Agent files" className="flex max-h-48 flex-col gap-0.5 overflow-y-auto p-2 @2xl:max-h-none">
      {rows.map((row) =>
        "folder" in row ? (
          <div
            key={`folder:${row.folder}`}
            style={{ paddingLeft: `${row.depth * 12 + 10}px` }}
            className="flex items-center gap-2 py-1 text-xs font-medium text-fg-subtle"
          >
            <Folder aria-hidden className="size-3.5" />
            {row.folder.split("/").at(-1)}
          </div>
        ) : (
          <button
            key={row.path}
            type="button"
            aria-current={row.path === current ? "true" : undefined}
            onClick={() => onSelect(row.path)}
            style={{ paddingLeft: `${row.depth * 12 + 10}px` }}
            className={cn(
              "flex items-center gap-2 rounded-md py-1.5 pr-2 text-left text-sm transition-colors",
              row.path === current
                ? "bg-surface-3 font-medium text-fg"
                : "text-fg-muted hover:bg-surface-3/60 hover:text-fg",
            )}
          >
            {row.name.endsWith(".md") ? (
              <FileText aria-hidden className="size-4 shrink-0 opacity-70" />
            ) : (
              <FileCode2 aria-hidden className="size-4 shrink-0 opacity-70" />
            )}
            <span className="truncate" title={row.path}>
              {row.name}
            </span>
            {changed.has(row.path) ? (
              <span className="ml-auto size-2 shrink-0 rounded-full bg-accent" title="Unsaved changes" />
            ) : null}
          </button>
        ),
      )}
    </nav>
  );
}

/** A path for a file the agent does not have yet: relative, inside its folder, not hidden (the loader skips those). */
function newFileProblem(path: string, existing: string[]): string | null {
  if (!path) return "is required";
  const parts = path.split("/");
  if (path.startsWith("/") || parts.includes("..")) return "must be relative to the agent's folder, without ..";
  if (parts.some((part) => part === "" || part === ".")) return "has an empty part";
  if (parts.some((part) => part.startsWith("."))) return "must not name a hidden file or folder";
  if (existing.includes(path)) return "is already a file of this agent";
  if (existing.some((file) => file.startsWith(`${path}/`))) return "is a folder of this agent";
  return null;
}

/** "New file": a path, then an empty editor for it; the file exists once saved. */
function NewFile({ existing, onAdd }: { existing: string[]; onAdd: (path: string) => void }) {
  const [open, setOpen] = useState(false);
  const [path, setPath] = useState("");
  const [error, setError] = useState<string | null>(null);
  if (!open) {
    return (
      <div className="border-t border-line p-2">
        <Button size="sm" variant="ghost" icon={<Plus aria-hidden className="size-4" />} onClick={() => setOpen(true)}>
          New file
        </Button>
      </div>
    );
  }
  const close = () => {
    setOpen(false);
    setPath("");
    setError(null);
  };
  return (
    <form
      className="flex flex-col gap-2 border-t border-line p-2"
      onSubmit={(e) => {
        e.preventDefault();
        const wanted = path.trim();
        const problem = newFileProblem(wanted, existing);
        if (problem) return setError(problem);
        onAdd(wanted);
        close();
      }}
    >
      <Field label="Path" error={error} hint="In the agent's folder, e.g. skills/notes/SKILL.md">
        <Input
          autoFocus
          value={path}
          onChange={(e) => {
            setPath(e.target.value);
            setError(null);
          }}
          className="h-9 font-mono text-xs"
        />
      </Field>
      <div className="flex gap-2">
        <Button type="submit" size="sm" variant="primary">
          Add
        </Button>
        <Button size="sm" variant="ghost" onClick={close}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function FileEditor({
  agentId,
  path,
  editable,
  isNew,
  draft,
  onDraft,
  onDiscardNew,
}: {
  agentId: string;
  path: string;
  editable: boolean;
  /** Added in the tree, not saved yet: nothing to load, and Save creates it. */
  isNew: boolean;
  draft: string | undefined;
  onDraft: (text: string | null) => void;
  onDiscardNew: () => void;
}) {
  const file = useAgentFile(agentId, isNew ? null : path);
  const save = useSaveAgentFile(agentId);
  const toast = useToast();
  const [message, setMessage] = useState("");
  const [error, setError] = useState<string | null>(null);
  const errorId = useId();
  const saved = file.data?.content ?? "";
  const text = draft ?? saved;
  const dirty = isNew || (draft !== undefined && draft !== saved);
  const canEdit = editable && (isNew || file.data?.editable === true);

  const onSave = () => {
    setError(null);
    save.mutate(
      { path, content: text, message: message.trim() || (isNew ? `Add ${path}` : undefined) },
      {
        onSuccess: (result) => {
          onDraft(null);
          setMessage("");
          toast.show(result.commit ? `Saved ${path} as ${result.commit.slice(0, 7)}` : "Nothing changed");
        },
        onError: (e) => setError(e instanceof ApiError && e.fields.content ? e.fields.content : errorMessage(e)),
      },
    );
  };

  if (!isNew && file.isPending) return <Skeleton className="m-4 h-64 rounded-lg" />;
  if (!isNew && file.isError) return <LoadError message={errorMessage(file.error)} onRetry={() => file.refetch()} />;
  if (!isNew && file.data?.content === null) {
    return <p className="p-6 text-sm text-fg-subtle">{path} is binary or too large to show.</p>;
  }
  return (
    <div className="flex min-w-0 flex-col gap-3 p-3 @2xl:p-4">
      <div className="flex items-center gap-2">
        <h3 className="min-w-0 truncate font-mono text-sm text-fg">{path}</h3>
        {isNew ? <Badge tone="accent">New, unsaved</Badge> : dirty ? <Badge tone="accent">Unsaved</Badge> : null}
        {canEdit ? null : <Badge>Read-only</Badge>}
      </div>
      <CodeEditor
        label={`Contents of ${path}`}
        value={text}
        onChange={(value) => onDraft(value === saved ? null : value)}
        language={languageOf(path)}
        readOnly={!canEdit}
        invalid={Boolean(error)}
        describedBy={error ? errorId : undefined}
      />
      {error ? (
        <div
          id={errorId}
          role="alert"
          className="flex items-start gap-2 rounded-lg bg-danger-soft px-3 py-2 text-sm text-danger-text"
        >
          <AlertTriangle aria-hidden className="mt-0.5 size-4 shrink-0" />
          <p>
            Not saved: <span className="font-mono text-xs">{error}</span>
          </p>
        </div>
      ) : null}
      {canEdit ? (
        <form
          className="flex flex-wrap items-center gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            onSave();
          }}
        >
          <Input
            aria-label="Commit message"
            placeholder={`${isNew ? "Add" : "Edit"} ${path}`}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
            className="h-9 min-w-0 flex-1 basis-48"
          />
          <Button
            variant="ghost"
            disabled={!dirty || save.isPending}
            onClick={() => {
              onDraft(null);
              setError(null);
              if (isNew) onDiscardNew();
            }}
            icon={<Undo2 aria-hidden className="size-4" />}
          >
            {isNew ? "Discard" : "Undo edits"}
          </Button>
          <Button type="submit" variant="primary" disabled={!dirty} busy={save.isPending}>
            Save
          </Button>
        </form>
      ) : null}
    </div>
  );
}

const CHANGE_LABELS: Record<AgentStatus["changes"][number]["change"], string> = {
  modified: "changed",
  added: "new",
  deleted: "deleted",
};

/** Edits made on disk (outside Cybros) and not yet committed: list them, commit or discard them. */
function DiskChanges({ agentId }: { agentId: string }) {
  const status = useAgentStatus(agentId);
  const commit = useCommitAgentChanges(agentId);
  const discard = useDiscardAgentChanges(agentId);
  const toast = useToast();
  const [message, setMessage] = useState("");
  const [confirming, setConfirming] = useState(false);
  const changes = status.data?.changes ?? [];
  if (changes.length === 0) return null;
  return (
    <div className="mb-4 rounded-xl border border-warning-line bg-warning-soft px-4 py-3 text-sm text-warning-text">
      <p className="flex items-center gap-2 font-medium">
        <GitCommitHorizontal aria-hidden className="size-4" />
        Changes on disk not yet committed
      </p>
      <ul className="mt-1 flex flex-wrap gap-x-4 gap-y-0.5 font-mono text-xs">
        {changes.map((c) => (
          <li key={c.path}>
            {c.path} <span className="font-sans">({CHANGE_LABELS[c.change]})</span>
          </li>
        ))}
      </ul>
      <form
        className="mt-3 flex flex-wrap items-center gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          commit.mutate(message.trim() || "Commit changes made on disk", {
            onSuccess: () => {
              setMessage("");
              toast.show("Changes committed");
            },
            onError: (err) => toast.show(errorMessage(err), "danger"),
          });
        }}
      >
        <Input
          aria-label="Message for the changes on disk"
          placeholder="Commit changes made on disk"
          value={message}
          onChange={(e) => setMessage(e.target.value)}
          className="h-9 min-w-0 flex-1 basis-48 bg-surface"
        />
        <Button type="submit" size="md" busy={commit.isPending}>
          Commit
        </Button>
        <Button variant="ghost" onClick={() => setConfirming(true)}>
          Discard
        </Button>
      </form>
      <ConfirmDialog
        open={confirming}
        title="Discard the changes on disk?"
        description="Changed files go back to the last version and new files are removed. This cannot be undone."
        confirmLabel="Discard changes"
        busy={discard.isPending}
        error={discard.error ? errorMessage(discard.error) : null}
        onCancel={() => setConfirming(false)}
        onConfirm={() =>
          discard.mutate(undefined, {
            onSuccess: () => {
              setConfirming(false);
              toast.show("Changes discarded");
            },
          })
        }
      />
    </div>
  );
}
