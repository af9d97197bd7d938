import { type ReactNode, useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { cn } from "./cn";

export type MenuItem = {
  label: string;
  icon?: ReactNode;
  onSelect: () => void;
  destructive?: boolean;
  disabled?: boolean;
};

type MenuProps = {
  /** Renders the trigger; spread the given props onto a button. */
  trigger: (props: {
    ref: (el: HTMLButtonElement | null) => void;
    onClick: () => void;
    onKeyDown: (e: React.KeyboardEvent) => void;
    "aria-haspopup": "menu";
    "aria-expanded": boolean;
    "aria-controls": string | undefined;
  }) => ReactNode;
  items: MenuItem[];
  align?: "start" | "end";
};

/**
 * A dropdown menu (WAI-ARIA menu button): arrows move, Enter/Space select, Escape or a click outside closes and
 * focus returns to the trigger. Rendered in a portal so scrolling containers never clip it.
 */
export function Menu({ trigger, items, align = "end" }: MenuProps) {
  const [open, setOpen] = useState(false);
  const [position, setPosition] = useState<{ top: number; left: number } | null>(null);
  const triggerRef = useRef<HTMLButtonElement | null>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const focusFirst = useRef<"first" | "last">("first");
  const menuId = useId();

  const close = useCallback((restore = true) => {
    setOpen(false);
    if (restore) triggerRef.current?.focus();
  }, []);

  useLayoutEffect(() => {
    if (!open || !triggerRef.current || !menuRef.current) return;
    const rect = triggerRef.current.getBoundingClientRect();
    const menu = menuRef.current.getBoundingClientRect();
    const below = rect.bottom + 4 + menu.height <= window.innerHeight - 8;
    const top = below ? rect.bottom + 4 : Math.max(8, rect.top - 4 - menu.height);
    const rawLeft = align === "end" ? rect.right - menu.width : rect.left;
    const left = Math.min(Math.max(8, rawLeft), window.innerWidth - menu.width - 8);
    setPosition({ top, left });
    const buttons = menuRef.current.querySelectorAll<HTMLButtonElement>("[role=menuitem]:not(:disabled)");
    (focusFirst.current === "first" ? buttons[0] : buttons[buttons.length - 1])?.focus();
  }, [open, align]);

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      const target = e.target as Node;
      if (menuRef.current?.contains(target) || triggerRef.current?.contains(target)) return;
      close(false);
    };
    const onScroll = (e: Event) => {
      if (menuRef.current?.contains(e.target as Node)) return;
      close(false);
    };
    document.addEventListener("pointerdown", onPointer, true);
    window.addEventListener("resize", onScroll);
    document.addEventListener("scroll", onScroll, true);
    return () => {
      document.removeEventListener("pointerdown", onPointer, true);
      window.removeEventListener("resize", onScroll);
      document.removeEventListener("scroll", onScroll, true);
    };
  }, [open, close]);

  const onMenuKeyDown = (e: React.KeyboardEvent) => {
    const buttons = Array.from(
      menuRef.current?.querySelectorAll<HTMLButtonElement>("[role=menuitem]:not(:disabled)") ?? [],
    );
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const move = (to: number) => buttons[(to + buttons.length) % buttons.length]?.focus();
    if (e.key === "ArrowDown") move(index + 1);
    else if (e.key === "ArrowUp") move(index - 1);
    else if (e.key === "Home") move(0);
    else if (e.key === "End") move(buttons.length - 1);
    else if (e.key === "Escape") close();
    else if (e.key === "Tab") close(false);
    else return;
    if (e.key !== "Tab") {
      e.preventDefault();
      e.stopPropagation();
    }
  };

  return (
    <>
      {trigger({
        ref: (el) => {
          triggerRef.current = el;
        },
        onClick: () => {
          focusFirst.current = "first";
          setOpen((v) => !v);
        },
        onKeyDown: (e) => {
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            focusFirst.current = e.key === "ArrowDown" ? "first" : "last";
            setOpen(true);
          }
        },
        "aria-haspopup": "menu",
        "aria-expanded": open,
        "aria-controls": open ? menuId : undefined,
      })}
      {open
        ? createPortal(
            <div
              ref={menuRef}
              id={menuId}
              role="menu"
              tabIndex={-1}
              onKeyDown={onMenuKeyDown}
              style={position ? { top: position.top, left: position.left } : { top: -9999, left: -9999 }}
              className="fixed z-[60] min-w-44 rounded-xl border border-line bg-surface p-1 shadow-lg animate-pop-in"
            >
              {items.map((item) => (
                <button
                  key={item.label}
                  type="button"
                  role="menuitem"
                  tabIndex={-1}
                  disabled={item.disabled}
                  onClick={() => {
                    close();
                    item.onSelect();
                  }}
                  className={cn(
                    "flex w-full items-center gap-2.5 rounded-lg px-2.5 py-2 text-left text-sm outline-none disabled:opacity-50 [&_svg]:size-4",
                    item.destructive
                      ? "text-danger-text hover:bg-danger-soft focus-visible:bg-danger-soft"
                      : "text-fg hover:bg-surface-2 focus-visible:bg-surface-2",
                  )}
                >
                  {item.icon ? <span className="text-current opacity-80">{item.icon}</span> : null}
                  {item.label}
                </button>
              ))}
            </div>,
            document.body,
          )
        : null}
    </>
  );
}
