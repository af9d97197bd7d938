import type { HookWarning } from "@cybros/protocol";
import { AlertTriangle } from "lucide-react";

/**
 * Hooks of the agent program that failed or could not run while this reply was written: one quiet line each (the
 * same warning from every model call of the run counts once, with how many times), what the hook printed on
 * stderr one click away. The reply itself is fine: the turn went on with the static config.
 */
export function HookWarnings({ warnings }: { warnings: readonly HookWarning[] }) {
  const lines = groupWarnings(warnings);
  return (
    <ul className="mt-1.5 space-y-1" aria-label="Hook warnings">
      {lines.map(({ warning, count, stderr }) => (
        <li
          key={`${warning.hook}:${warning.message}`}
          className="text-xs leading-5 text-fg-muted"
          data-hook-warning={warning.hook}
        >
          <p className="flex items-start gap-1.5">
            <AlertTriangle aria-hidden className="mt-[3px] size-3.5 shrink-0 text-warning-text" />
            <span className="min-w-0 break-words">
              {warning.message}
              {count > 1 ? <span className="text-fg-subtle"> (×{count})</span> : null}
            </span>
          </p>
          {stderr ? (
            <details className="group/stderr ml-5">
              <summary className="w-fit cursor-pointer list-none text-fg-subtle select-none hover:text-fg [&::-webkit-details-marker]:hidden">
                <span className="group-open/stderr:hidden">Show what it printed on stderr</span>
                <span className="hidden group-open/stderr:inline">Hide stderr</span>
              </summary>
              <pre className="mt-1 max-h-48 overflow-auto rounded-md bg-surface-2 px-2 py-1.5 font-mono text-[11px] leading-relaxed whitespace-pre-wrap break-words text-danger-text">
                {stderr}
              </pre>
            </details>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** One line per hook and message, in the order first seen, with the latest stderr it came with. */
function groupWarnings(warnings: readonly HookWarning[]) {
  const lines = new Map<string, { warning: HookWarning; count: number; stderr: string }>();
  for (const warning of warnings) {
    const key = `${warning.hook}:${warning.message}`;
    const held = lines.get(key);
    const stderr = warning.stderr.trimEnd();
    if (held) lines.set(key, { ...held, count: held.count + 1, stderr: stderr || held.stderr });
    else lines.set(key, { warning, count: 1, stderr });
  }
  return [...lines.values()];
}
