import { useMemo } from "react";
import { cn } from "../ui";
import { highlight, type Language, TOKEN_CLASSES } from "./highlight";

// The textarea and the highlighted copy behind it share one grid cell and exactly these text metrics, so
// the colored text sits under the transparent text the person edits; the copy sets the height (no inner scroll).
const METRICS =
  "col-start-1 row-start-1 m-0 p-3 font-mono text-[13px] leading-5 whitespace-pre-wrap [overflow-wrap:anywhere] [tab-size:2]";

/** A plain textarea with syntax colors drawn behind it: native editing, undo, IME and accessibility. */
export function CodeEditor({
  value,
  onChange,
  language,
  readOnly,
  label,
  describedBy,
  invalid,
}: {
  value: string;
  onChange: (value: string) => void;
  language: Language;
  readOnly?: boolean;
  label: string;
  describedBy?: string;
  invalid?: boolean;
}) {
  const tokens = useMemo(() => highlight(value, language), [value, language]);
  return (
    <div
      className={cn(
        "grid min-h-64 rounded-lg border bg-surface-2 focus-within:ring-2 focus-within:ring-ring",
        invalid ? "border-danger" : "border-line",
      )}
    >
      <pre aria-hidden className={cn(METRICS, "pointer-events-none text-fg")}>
        {tokens.map((token, index) =>
          token.kind ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: tokens are recomputed whole; position is identity
            <span key={index} className={TOKEN_CLASSES[token.kind]}>
              {token.text}
            </span>
          ) : (
            token.text
          ),
        )}
        {/* A final newline needs a character after it to take up its line. */}
        {"\n "}
      </pre>
      <textarea
        aria-label={label}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
        value={value}
        readOnly={readOnly}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        autoCorrect="off"
        onChange={(e) => onChange(e.target.value)}
        className={cn(
          METRICS,
          "resize-none overflow-hidden bg-transparent text-transparent caret-fg outline-none selection:bg-accent-soft selection:text-fg",
        )}
      />
    </div>
  );
}
