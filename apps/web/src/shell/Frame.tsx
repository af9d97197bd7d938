import { type ReactNode, useEffect, useMemo, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import { cn, Drawer, hasOpenLayer } from "../ui";
import { ShellContext } from "./context";
import { useBreakpoint } from "./media";
import { Sidebar } from "./Sidebar";
import { useStoredState } from "./storage";

/**
 * What the agent and settings layouts share: the sidebar (a rail that collapses to icons on tablet and
 * desktop, a drawer on phones), the main pane, an optional right pane, and the global shortcuts
 * (Ctrl+Shift+O new conversation, Ctrl+Shift+S toggle the sidebar).
 */
export function Frame({
  sidebarContent,
  children,
  right,
  mainClassName,
}: {
  sidebarContent: ReactNode;
  children: ReactNode;
  right?: ReactNode;
  mainClassName?: string;
}) {
  const breakpoint = useBreakpoint();
  const mobile = breakpoint === "mobile";
  const [collapsed, setCollapsed] = useStoredState("cybros.sidebarCollapsed", false);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();

  // Following a link from the drawer closes it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every navigation on purpose
  useEffect(() => setDrawerOpen(false), [location.pathname, location.search]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || !e.shiftKey || hasOpenLayer()) return;
      const key = e.key.toLowerCase();
      if (key === "o") {
        e.preventDefault();
        navigate("/conversations");
      } else if (key === "s") {
        e.preventDefault();
        if (mobile) setDrawerOpen((open) => !open);
        else setCollapsed(!collapsed);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate, mobile, collapsed, setCollapsed]);

  const shell = useMemo(() => ({ mobile, openSidebar: () => setDrawerOpen(true) }), [mobile]);

  return (
    <ShellContext.Provider value={shell}>
      {/* Clipped, not hidden: a hidden box still scrolls from script and find-in-page (to absolutely placed bits of
          a scrolled list), which shifted the whole frame with no way back. */}
      <div className="flex h-dvh overflow-clip bg-app">
        {mobile ? (
          <Drawer
            open={drawerOpen}
            onClose={() => setDrawerOpen(false)}
            side="left"
            label="Sidebar"
            className="w-[86vw] max-w-[300px]"
          >
            <Sidebar collapsed={false} onClose={() => setDrawerOpen(false)}>
              {sidebarContent}
            </Sidebar>
          </Drawer>
        ) : (
          <div className="shrink-0 border-r border-line">
            <Sidebar collapsed={collapsed} onToggleCollapsed={() => setCollapsed(!collapsed)}>
              {sidebarContent}
            </Sidebar>
          </div>
        )}
        <main id="main" className={cn("flex min-w-0 flex-1 flex-col", mainClassName)}>
          {children}
        </main>
        {right}
      </div>
    </ShellContext.Provider>
  );
}
