import type { ReactNode } from "react";
import { Navigate, Outlet, useLocation, useSearchParams } from "react-router";
import { errorMessage } from "../lib/api";
import { LoadError, Spinner } from "../ui";
import { useSession } from "./session";

/** Only same-site paths are followed after login; anything else falls back to the conversations page. */
export function safeNext(next: string | null | undefined, fallback = "/conversations"): string {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  return next;
}

function FullPage({ children }: { children: ReactNode }) {
  return <div className="flex min-h-full items-center justify-center p-6">{children}</div>;
}

function useSessionGate() {
  const session = useSession();
  if (session.isPending) {
    return {
      gate: (
        <FullPage>
          <Spinner />
        </FullPage>
      ),
    };
  }
  if (session.isError) {
    return {
      gate: (
        <FullPage>
          <LoadError message={errorMessage(session.error)} onRetry={() => session.refetch()} />
        </FullPage>
      ),
    };
  }
  return { state: session.data };
}

/** Pages that need a session; mirrors the server: no identity yet → /setup, signed out → /login?next=. */
export function RequireSession() {
  const location = useLocation();
  const { gate, state } = useSessionGate();
  if (!state) return gate;
  if (state.setupRequired) return <Navigate to="/setup" replace />;
  if (!state.user) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}

/** /login: signed-in people go on to where they were headed. */
export function RequireSignedOut() {
  const [params] = useSearchParams();
  const { gate, state } = useSessionGate();
  if (!state) return gate;
  if (state.setupRequired) return <Navigate to="/setup" replace />;
  if (state.user) return <Navigate to={safeNext(params.get("next"))} replace />;
  return <Outlet />;
}

/** /setup exists only until the first identity is created. */
export function RequireSetupPending() {
  const { gate, state } = useSessionGate();
  if (!state) return gate;
  if (!state.setupRequired) return <Navigate to={state.user ? "/conversations" : "/login"} replace />;
  return <Outlet />;
}

/** The landing page is public, but a fresh install has nothing to show before setup. */
export function LandingGate() {
  const { gate, state } = useSessionGate();
  if (!state) return gate;
  if (state.setupRequired) return <Navigate to="/setup" replace />;
  return <Outlet />;
}
