import type { ReactNode } from "react";
import { Link } from "react-router";
import { Logo } from "../shell/Logo";

/** The frame of /setup and /login: the mark, one card, nothing else to get lost in. */
export function AuthLayout({
  title,
  subtitle,
  children,
}: {
  title: string;
  subtitle?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="flex min-h-full flex-col bg-sidebar">
      <header className="px-6 py-5">
        <Link to="/" className="inline-flex rounded-lg" aria-label="Cybros home">
          <Logo />
        </Link>
      </header>
      <main className="flex flex-1 items-start justify-center px-4 pt-[8vh] pb-16">
        <div className="w-full max-w-sm">
          <h1 className="text-2xl font-semibold tracking-tight text-fg">{title}</h1>
          {subtitle ? <p className="mt-1.5 text-sm text-fg-muted">{subtitle}</p> : null}
          <div className="mt-6 rounded-2xl border border-line bg-surface p-6 shadow-sm">{children}</div>
        </div>
      </main>
    </div>
  );
}
