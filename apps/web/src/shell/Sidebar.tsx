import {
  Bot,
  Bug,
  ChevronsUpDown,
  LayoutDashboard,
  LogOut,
  MessagesSquare,
  PanelLeftClose,
  PanelLeftOpen,
  Server,
  Settings,
  SquarePen,
  X,
} from "lucide-react";
import type { ReactNode } from "react";
import { Link, NavLink, useLocation, useNavigate } from "react-router";
import { useCurrentUser, useLogout } from "../auth/session";
import { cn, IconButton, Menu, type MenuItem, useToast } from "../ui";
import { useDebugOverlay } from "./debug";
import { Logo } from "./Logo";

export const PRIMARY_NAV = [
  { to: "/dashboard", label: "Dashboard", icon: LayoutDashboard, match: ["/dashboard"] },
  { to: "/conversations", label: "Conversations", icon: MessagesSquare, match: ["/conversations"] },
  { to: "/agents", label: "Agents", icon: Bot, match: ["/agents"] },
  { to: "/settings", label: "Settings", icon: Settings, match: ["/settings", "/system/settings"] },
] as const;

type SidebarProps = {
  collapsed: boolean;
  /** Desktop/tablet: collapse to icons or expand. */
  onToggleCollapsed?: () => void;
  /** Mobile drawer: close it. */
  onClose?: () => void;
  /** What sits under the primary nav: the conversation list, or a settings page's sections. */
  children?: ReactNode;
};

/** The left sidebar shared by the agent and settings layouts. */
export function Sidebar({ collapsed, onToggleCollapsed, onClose, children }: SidebarProps) {
  const { pathname } = useLocation();
  return (
    <div
      className={cn(
        "flex h-full flex-col bg-sidebar",
        collapsed ? "w-[60px] items-center" : onClose ? "w-full" : "w-[272px]",
      )}
    >
      <div
        className={cn("flex h-14 shrink-0 items-center", collapsed ? "justify-center" : "justify-between pr-2 pl-4")}
      >
        {collapsed ? null : (
          <Link to="/dashboard" aria-label="Cybros dashboard" className="rounded-lg">
            <Logo />
          </Link>
        )}
        {onClose ? (
          <IconButton label="Close sidebar" onClick={onClose}>
            <X />
          </IconButton>
        ) : onToggleCollapsed ? (
          <IconButton
            label={collapsed ? "Expand sidebar" : "Collapse sidebar"}
            aria-expanded={!collapsed}
            onClick={onToggleCollapsed}
            title={`${collapsed ? "Expand" : "Collapse"} sidebar (Ctrl+Shift+S)`}
          >
            {collapsed ? <PanelLeftOpen /> : <PanelLeftClose />}
          </IconButton>
        ) : null}
      </div>

      <div className={cn("shrink-0", collapsed ? "px-0" : "px-3")}>
        {collapsed ? (
          <Link
            to="/conversations"
            aria-label="New conversation"
            title="New conversation (Ctrl+Shift+O)"
            className="flex size-9 items-center justify-center rounded-lg text-fg-muted hover:bg-surface-3/70 hover:text-fg"
          >
            <SquarePen aria-hidden className="size-[18px]" />
          </Link>
        ) : (
          <Link
            to="/conversations"
            title="New conversation (Ctrl+Shift+O)"
            className="flex h-9 items-center gap-2.5 rounded-lg border border-line-strong bg-surface px-3 text-sm font-medium text-fg shadow-xs transition-colors hover:bg-surface-2"
          >
            <SquarePen aria-hidden className="size-4" />
            New conversation
          </Link>
        )}
      </div>

      <nav aria-label="Primary" className={cn("shrink-0 pt-3 pb-2", collapsed ? "px-0" : "px-3")}>
        <ul className="flex flex-col gap-0.5">
          {PRIMARY_NAV.map((item) => {
            const active = item.match.some((m) => pathname === m || pathname.startsWith(`${m}/`));
            const Icon = item.icon;
            return (
              <li key={item.to}>
                <NavLink
                  to={item.to}
                  aria-current={active ? "page" : undefined}
                  aria-label={collapsed ? item.label : undefined}
                  title={collapsed ? item.label : undefined}
                  className={cn(
                    "flex items-center rounded-lg text-sm transition-colors",
                    collapsed ? "size-9 justify-center" : "h-9 gap-2.5 px-2.5",
                    active ? "bg-surface-3 font-medium text-fg" : "text-fg-muted hover:bg-surface-3/60 hover:text-fg",
                  )}
                >
                  <Icon aria-hidden className="size-[18px] shrink-0" />
                  {collapsed ? null : item.label}
                </NavLink>
              </li>
            );
          })}
        </ul>
      </nav>

      {collapsed ? (
        <div className="flex-1" />
      ) : (
        <div className="flex min-h-0 flex-1 flex-col border-t border-line pt-3">{children}</div>
      )}

      <UserMenu collapsed={collapsed} />
    </div>
  );
}

function UserMenu({ collapsed }: { collapsed: boolean }) {
  const user = useCurrentUser();
  const logout = useLogout();
  const navigate = useNavigate();
  const toast = useToast();
  const debug = useDebugOverlay();
  const email = user?.email ?? "";
  const initial = (user?.displayName || email || "?").charAt(0).toUpperCase();

  const items: MenuItem[] = [
    { label: "Settings", icon: <Settings />, onSelect: () => navigate("/settings") },
    { label: "System settings", icon: <Server />, onSelect: () => navigate("/system/settings") },
    ...(debug.available
      ? [{ label: debug.shown ? "Hide debug overlay" : "Show debug overlay", icon: <Bug />, onSelect: debug.toggle }]
      : []),
    {
      label: "Sign out",
      icon: <LogOut />,
      onSelect: () =>
        logout.mutate(undefined, {
          onSuccess: () => navigate("/login", { replace: true }),
          onError: () => toast.show("Could not sign out; try again", "danger"),
        }),
    },
  ];

  const avatar = (
    <span
      aria-hidden
      className="flex size-7 shrink-0 items-center justify-center rounded-full bg-accent text-xs font-semibold text-accent-fg"
    >
      {initial}
    </span>
  );

  return (
    <div className={cn("shrink-0 border-t border-line py-2", collapsed ? "px-0" : "px-2")}>
      <Menu
        align="start"
        items={items}
        trigger={(props) =>
          collapsed ? (
            <button
              {...props}
              type="button"
              aria-label={`Account menu for ${email}`}
              title={email}
              className="flex size-9 items-center justify-center rounded-lg hover:bg-surface-3/70"
            >
              {avatar}
            </button>
          ) : (
            <button
              {...props}
              type="button"
              aria-label={`Account menu for ${email}`}
              className="flex h-11 w-full items-center gap-2.5 rounded-lg px-2 text-left text-sm hover:bg-surface-3/60"
            >
              {avatar}
              <span className="min-w-0 flex-1 truncate text-fg">{email}</span>
              <ChevronsUpDown aria-hidden className="size-4 text-fg-subtle" />
            </button>
          )
        }
      />
    </div>
  );
}
