import { cn } from "../ui";

/** The Cybros mark (same drawing as the favicon) and, optionally, the word. */
export function Logo({ withName = true, className }: { withName?: boolean; className?: string }) {
  return (
    <span className={cn("inline-flex items-center gap-2", className)}>
      <svg viewBox="0 0 32 32" aria-hidden className="size-7 shrink-0">
        <rect width="32" height="32" rx="8" fill="#4f46e5" />
        <path d="M21 11.5a7 7 0 1 0 0 9" fill="none" stroke="#fff" strokeWidth="3" strokeLinecap="round" />
        <circle cx="22" cy="16" r="2" fill="#a5b4fc" />
      </svg>
      {withName ? <span className="text-[15px] font-semibold tracking-tight text-fg">Cybros</span> : null}
    </span>
  );
}
