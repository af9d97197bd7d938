import { Menu as MenuIcon, SquarePen } from "lucide-react";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { cn, IconButton, iconButtonClass } from "../ui";
import { useShell } from "./context";

/**
 * The bar at the top of the main pane: on phones it carries the sidebar button and a New conversation
 * shortcut; elsewhere just the page's title and actions.
 */
export function PageHeader({
  title,
  subtitle,
  actions,
  className,
  newConversation = true,
  isPageHeading = true,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  className?: string;
  /** Phones: show the New conversation shortcut (pages with their own primary action turn it off). */
  newConversation?: boolean;
  /** The title is the page's h1, unless the page's body carries its own. */
  isPageHeading?: boolean;
}) {
  const Title = isPageHeading ? "h1" : "div";
  const { mobile, openSidebar } = useShell();
  return (
    <header className={cn("flex h-14 shrink-0 items-center gap-2 border-b border-line bg-app px-3 md:px-5", className)}>
      {mobile ? (
        <IconButton label="Open sidebar" onClick={openSidebar} className="-ml-1">
          <MenuIcon />
        </IconButton>
      ) : null}
      <div className="min-w-0 flex-1">
        <Title className="truncate text-[15px] font-semibold text-fg">{title}</Title>
        {subtitle ? <div className="truncate text-xs text-fg-subtle">{subtitle}</div> : null}
      </div>
      {actions ? <div className="flex shrink-0 items-center gap-1">{actions}</div> : null}
      {mobile && newConversation ? (
        <Link to="/conversations" aria-label="New conversation" title="New conversation" className={iconButtonClass()}>
          <SquarePen aria-hidden className="size-[18px]" />
        </Link>
      ) : null}
    </header>
  );
}
