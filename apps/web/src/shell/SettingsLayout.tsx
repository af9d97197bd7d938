import { useEffect } from "react";
import { Link, Outlet, useLocation } from "react-router";
import { ConversationList } from "../conversations/ConversationList";
import { cn } from "../ui";
import { Frame } from "./Frame";

const PAGES = [
  {
    path: "/settings",
    label: "Personal",
    sections: [
      { id: "profile", label: "Profile" },
      { id: "password", label: "Password" },
      { id: "sessions", label: "Sessions" },
    ],
  },
  {
    path: "/system/settings",
    label: "System",
    sections: [
      { id: "providers", label: "LLM providers" },
      { id: "agent-programs", label: "Agent programs" },
      { id: "territories", label: "Territories" },
      { id: "account", label: "Account defaults" },
    ],
  },
];

function SettingsNav() {
  const { pathname, hash } = useLocation();
  return (
    <nav aria-label="Settings sections" className="flex flex-col gap-4 overflow-y-auto px-3 pb-3">
      {PAGES.map((page) => {
        const current = pathname === page.path;
        return (
          <div key={page.path}>
            <Link
              to={page.path}
              aria-current={current && !hash ? "page" : undefined}
              className="block px-2.5 pb-1 text-xs font-medium text-fg-subtle hover:text-fg"
            >
              {page.label}
            </Link>
            <ul className="flex flex-col gap-px">
              {page.sections.map((section, index) => {
                const active = current && (hash === `#${section.id}` || (!hash && index === 0));
                return (
                  <li key={section.id}>
                    <Link
                      to={{ pathname: page.path, hash: section.id }}
                      aria-current={active ? "location" : undefined}
                      className={cn(
                        "flex h-8 items-center rounded-lg px-2.5 text-sm transition-colors",
                        active
                          ? "bg-surface-3 font-medium text-fg"
                          : "text-fg-muted hover:bg-surface-3/60 hover:text-fg",
                      )}
                    >
                      {section.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </nav>
  );
}

/** Scrolls to `#section` when the hash changes (the router does not). */
function useHashScroll() {
  const { hash, pathname } = useLocation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new page with the same hash scrolls too
  useEffect(() => {
    if (!hash) return;
    const id = decodeURIComponent(hash.slice(1));
    // Wait a frame so a page that just rendered has its sections in place.
    const frame = requestAnimationFrame(() => document.getElementById(id)?.scrollIntoView({ block: "start" }));
    return () => cancelAnimationFrame(frame);
  }, [hash, pathname]);
}

/** Dashboard, /settings and /system/settings: forms and tables in a readable column; no inspector. */
export function SettingsLayout() {
  const { pathname } = useLocation();
  useHashScroll();
  const settingsPage = PAGES.some((p) => p.path === pathname);
  return (
    <Frame
      sidebarContent={
        settingsPage ? (
          <SettingsNav />
        ) : (
          <nav aria-label="Conversations" className="flex min-h-0 flex-1 flex-col">
            <ConversationList />
          </nav>
        )
      }
    >
      <Outlet />
    </Frame>
  );
}

/** The scrolling body of a settings-layout page: a readable column under the page header. */
export function SettingsBody({ children, wide }: { children: React.ReactNode; wide?: boolean }) {
  return (
    // Relative: an absolutely placed descendant (an sr-only legend) scrolls inside, never lengthens the document.
    <div className="relative min-h-0 flex-1 overflow-y-auto">
      <div className={cn("mx-auto flex flex-col gap-10 px-4 py-6 md:px-8 md:py-8", wide ? "max-w-5xl" : "max-w-3xl")}>
        {children}
      </div>
    </div>
  );
}
