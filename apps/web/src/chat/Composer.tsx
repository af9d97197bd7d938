import { ArrowUp, Square } from "lucide-react";
import {
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from "react";
import { cn } from "../ui";

export const MAX_MESSAGE_CHARS = 200_000;

/**
 * The message box: Enter sends, Shift+Enter adds a line, Esc stops the reply in progress. It grows with its
 * text, keeps a draft per conversation, and sits at the bottom of the chat, clear of the phone's home indicator.
 * When `onSend` returns a promise that rejects, the text comes back into the box (a failed send loses nothing).
 */
export function Composer({
  conversationId,
  running,
  stopping,
  onSend,
  onStop,
  disabled = false,
  accessory,
}: {
  conversationId: string;
  running: boolean;
  stopping: boolean;
  onSend: (text: string) => unknown;
  onStop: () => void;
  /** Typing is allowed, sending is not (nothing to send to yet). */
  disabled?: boolean;
  /** Shown in the composer's top row, left: the new conversation's agent switcher. */
  accessory?: ReactNode;
}) {
  const draftKey = `cybros.draft.${conversationId}`;
  const [text, setText] = useState(() => readDraft(draftKey));
  const area = useRef<HTMLTextAreaElement>(null);
  const hintId = useId();
  const tooLong = text.length > MAX_MESSAGE_CHARS;
  const canSend = text.trim() !== "" && !tooLong && !disabled;

  useEffect(() => {
    const timer = window.setTimeout(() => writeDraft(draftKey, text), 300);
    return () => window.clearTimeout(timer);
  }, [draftKey, text]);

  // Grow with the text up to a cap; the box scrolls beyond it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-measure whenever the text changes
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, Math.max(160, window.innerHeight * 0.4))}px`;
  }, [text]);

  const send = () => {
    if (!canSend) return;
    const sending = onSend(text);
    if (sending instanceof Promise) sending.catch(() => setText((current) => current || text));
    setText("");
    writeDraft(draftKey, "");
    area.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape" && running) {
      event.preventDefault();
      onStop();
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    send();
  };

  return (
    <div className="shrink-0 bg-gradient-to-t from-app via-app to-app/0 px-3 pt-2 pb-[max(0.75rem,env(safe-area-inset-bottom))] md:px-6">
      {accessory ? <div className="mx-auto mb-1.5 flex w-full max-w-3xl items-center px-1">{accessory}</div> : null}
      <form
        onSubmit={onSubmit}
        className="mx-auto flex w-full max-w-3xl items-end gap-2 rounded-3xl border border-line-strong bg-surface p-2 shadow-sm focus-within:border-ring"
      >
        <textarea
          ref={area}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          rows={1}
          aria-label="Message"
          aria-describedby={hintId}
          aria-invalid={tooLong || undefined}
          placeholder="Message"
          enterKeyHint="send"
          className="max-h-[40vh] min-h-10 flex-1 resize-none bg-transparent px-3 py-2 text-[15px] leading-6 text-fg outline-none placeholder:text-fg-subtle"
        />
        {running ? (
          <button
            type="button"
            onClick={onStop}
            disabled={stopping}
            aria-label="Stop"
            title="Stop (Esc)"
            className="flex size-10 shrink-0 items-center justify-center rounded-full border border-line-strong bg-surface text-fg hover:bg-surface-2 disabled:opacity-50"
          >
            <Square aria-hidden className="size-4 fill-current" />
          </button>
        ) : null}
        <button
          type="submit"
          disabled={!canSend}
          aria-label="Send"
          title="Send (Enter)"
          className={cn(
            "flex size-10 shrink-0 items-center justify-center rounded-full transition-colors",
            canSend ? "bg-fg text-app hover:opacity-90" : "bg-surface-3 text-fg-subtle",
          )}
        >
          <ArrowUp aria-hidden className="size-5" />
        </button>
      </form>
      <p
        id={hintId}
        className={cn("mx-auto mt-1.5 max-w-3xl px-3 text-center text-xs", tooLong ? "text-danger-text" : "sr-only")}
      >
        {tooLong
          ? `This message is too long (${text.length.toLocaleString()} of ${MAX_MESSAGE_CHARS.toLocaleString()} characters).`
          : "Enter sends, Shift+Enter adds a line, Esc stops the reply."}
      </p>
    </div>
  );
}

function readDraft(key: string): string {
  try {
    return window.sessionStorage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

function writeDraft(key: string, text: string) {
  try {
    if (text) window.sessionStorage.setItem(key, text);
    else window.sessionStorage.removeItem(key);
  } catch {
    // Storage full or disabled: the draft just is not kept.
  }
}
