import { X } from "lucide-react";
import { type KeyboardEvent, useState } from "react";
import { cn } from "../ui";

type Props = {
  id?: string;
  value: string[];
  onChange: (models: string[]) => void;
  "aria-invalid"?: boolean;
  "aria-describedby"?: string;
};

/** Model ids as removable chips; type or paste ids (Enter, comma or new line adds them). */
export function ModelAllowlist({ id, value, onChange, ...aria }: Props) {
  const [draft, setDraft] = useState("");

  const add = (text: string) => {
    const ids = text
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (ids.length === 0) return;
    onChange([...new Set([...value, ...ids])]);
    setDraft("");
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter" || e.key === ",") {
      e.preventDefault();
      add(draft);
    } else if (e.key === "Backspace" && draft === "" && value.length) {
      onChange(value.slice(0, -1));
    }
  };

  return (
    <div
      className={cn(
        "flex min-h-10 w-full flex-wrap items-center gap-1.5 rounded-lg border border-line-strong bg-surface px-2 py-1.5 shadow-xs focus-within:outline-2 focus-within:outline-ring",
        aria["aria-invalid"] && "border-danger",
      )}
    >
      {value.map((model) => (
        <span
          key={model}
          className="inline-flex max-w-full items-center gap-1 rounded-md bg-surface-2 py-0.5 pr-1 pl-2 font-mono text-xs text-fg"
        >
          <span className="truncate">{model}</span>
          <button
            type="button"
            aria-label={`Remove ${model}`}
            onClick={() => onChange(value.filter((m) => m !== model))}
            className="rounded p-0.5 text-fg-subtle hover:bg-surface-3 hover:text-fg"
          >
            <X aria-hidden className="size-3" />
          </button>
        </span>
      ))}
      <input
        id={id}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={onKeyDown}
        onBlur={() => add(draft)}
        onPaste={(e) => {
          const text = e.clipboardData.getData("text");
          if (/[,\n]/.test(text)) {
            e.preventDefault();
            add(text);
          }
        }}
        placeholder={value.length ? "Add a model" : "Type a model id and press Enter"}
        className="h-7 min-w-36 flex-1 bg-transparent px-1 font-mono text-xs text-fg outline-none placeholder:font-sans placeholder:text-sm placeholder:text-fg-subtle"
        {...aria}
      />
    </div>
  );
}
