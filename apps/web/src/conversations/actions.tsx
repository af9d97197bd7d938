import type { ConversationSummary } from "@cybros/protocol";
import { updateConversationInput } from "@cybros/protocol";
import { Archive, ArchiveRestore, Pencil, Trash2 } from "lucide-react";
import { type FormEvent, type ReactNode, useState } from "react";
import { useMatch, useNavigate } from "react-router";
import { errorMessage, fieldErrors } from "../lib/api";
import { validate } from "../lib/forms";
import { Button, ConfirmDialog, Dialog, Field, Input, type MenuItem, useToast } from "../ui";
import { useArchiveConversation, useDeleteConversation, useRenameConversation } from "./queries";

/**
 * Rename, archive, restore and delete, shared by the sidebar list and the conversation header: one set of
 * menu items and the dialogs they open (delete asks first; it cannot be undone).
 */
export function useConversationActions(): {
  itemsFor: (conversation: ConversationSummary) => MenuItem[];
  dialogs: ReactNode;
} {
  const navigate = useNavigate();
  const openMatch = useMatch("/conversations/:id");
  const toast = useToast();
  const archive = useArchiveConversation();
  const remove = useDeleteConversation();
  const [renaming, setRenaming] = useState<ConversationSummary | null>(null);
  const [deleting, setDeleting] = useState<ConversationSummary | null>(null);

  const setArchived = (conversation: ConversationSummary, archived: boolean) =>
    archive.mutate(
      { id: conversation.id, archived },
      {
        onSuccess: () => toast.show(archived ? "Conversation archived" : "Conversation restored"),
        onError: (error) => toast.show(errorMessage(error), "danger"),
      },
    );

  const itemsFor = (conversation: ConversationSummary): MenuItem[] => [
    { label: "Rename", icon: <Pencil />, onSelect: () => setRenaming(conversation) },
    conversation.archivedAt
      ? { label: "Restore", icon: <ArchiveRestore />, onSelect: () => setArchived(conversation, false) }
      : { label: "Archive", icon: <Archive />, onSelect: () => setArchived(conversation, true) },
    { label: "Delete", icon: <Trash2 />, destructive: true, onSelect: () => setDeleting(conversation) },
  ];

  const confirmDelete = () => {
    if (!deleting) return;
    const id = deleting.id;
    remove.mutate(id, {
      onSuccess: () => {
        setDeleting(null);
        toast.show("Conversation deleted");
        if (openMatch?.params.id === id) navigate("/conversations", { replace: true });
      },
    });
  };

  const dialogs = (
    <>
      {renaming ? <RenameDialog conversation={renaming} onClose={() => setRenaming(null)} /> : null}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete conversation?"
        description={
          <>
            “{deleting?.title}” and all of its messages will be deleted for good. Archive it instead to hide it and keep
            it.
          </>
        }
        confirmLabel="Delete"
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={confirmDelete}
        onCancel={() => {
          setDeleting(null);
          remove.reset();
        }}
      />
    </>
  );
  return { itemsFor, dialogs };
}

function RenameDialog({ conversation, onClose }: { conversation: ConversationSummary; onClose: () => void }) {
  const rename = useRenameConversation();
  const [title, setTitle] = useState(conversation.title);
  const [error, setError] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const local = validate(updateConversationInput, { title });
    if (local) return setError(local.title ?? null);
    rename.mutate(
      { id: conversation.id, title },
      {
        onSuccess: onClose,
        onError: (e) => setError(fieldErrors(e).title ?? errorMessage(e)),
      },
    );
  };

  return (
    <Dialog
      open
      onClose={onClose}
      title="Rename conversation"
      size="sm"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="rename-conversation" busy={rename.isPending}>
            Save
          </Button>
        </>
      }
    >
      <form id="rename-conversation" noValidate onSubmit={submit}>
        <Field label="Title" error={error}>
          <Input
            value={title}
            maxLength={200}
            onChange={(e) => {
              setTitle(e.target.value);
              setError(null);
            }}
            onFocus={(e) => e.target.select()}
            data-autofocus
          />
        </Field>
      </form>
    </Dialog>
  );
}
