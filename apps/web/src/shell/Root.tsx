import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { isRouteErrorResponse, Link, Outlet, useRouteError } from "react-router";
import { sessionKey } from "../auth/session";
import { setUnauthorizedHandler } from "../lib/api";
import { useTitle } from "../lib/useTitle";
import { buttonClass, ToastProvider } from "../ui";
import { DebugOverlay } from "./debug";
import { Logo } from "./Logo";

/** Above every route: toasts, the debug overlay, and what happens when the session ends mid-use. */
export function Root() {
  const client = useQueryClient();
  useEffect(() => {
    // A 401 from any call means the session ended: refresh it and the guards send the user to /login.
    setUnauthorizedHandler(() => client.invalidateQueries({ queryKey: sessionKey }));
    return () => setUnauthorizedHandler(null);
  }, [client]);
  return (
    <ToastProvider>
      <Outlet />
      <DebugOverlay />
    </ToastProvider>
  );
}

function Centered({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="flex min-h-full flex-col items-center justify-center gap-4 px-6 text-center">
      <Logo withName={false} />
      <h1 className="text-xl font-semibold text-fg">{title}</h1>
      <div className="max-w-md text-sm text-fg-muted">{children}</div>
    </div>
  );
}

export function NotFoundPage() {
  useTitle("Not found");
  return (
    <main className="h-full">
      <Centered title="This page does not exist">
        <p>The address may be mistyped, or what it pointed to was deleted.</p>
        <Link to="/conversations" className={buttonClass("primary", "md", "mt-4")}>
          Go to conversations
        </Link>
      </Centered>
    </main>
  );
}

/** Shown when rendering a route throws: a way back instead of a blank page. */
export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : "Unknown error";
  return (
    <main className="h-full">
      <Centered title="Something went wrong">
        <p>This page hit an error while rendering. Reloading usually helps.</p>
        <p className="mt-2 font-mono text-xs text-fg-subtle">{message}</p>
        <div className="mt-4 flex justify-center gap-2">
          <button type="button" className={buttonClass("primary")} onClick={() => window.location.reload()}>
            Reload
          </button>
          <a href="/conversations" className={buttonClass("secondary")}>
            Go to conversations
          </a>
        </div>
      </Centered>
    </main>
  );
}
