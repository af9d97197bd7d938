import { type ReactNode, useRef } from "react";
import { createPortal } from "react-dom";
import { cn } from "./cn";
import { useFocusTrap } from "./focus";

type DrawerProps = {
  open: boolean;
  onClose: () => void;
  side: "left" | "right";
  /** The accessible name of the drawer. */
  label: string;
  children: ReactNode;
  className?: string;
};

/** A modal side sheet over the page (mobile sidebar, tablet inspector): focus trapped, Escape closes. */
export function Drawer({ open, onClose, side, label, children, className }: DrawerProps) {
  const ref = useRef<HTMLDivElement>(null);
  useFocusTrap(ref, open, onClose);
  if (!open) return null;
  return createPortal(
    <div className="fixed inset-0 z-40">
      <div aria-hidden className="absolute inset-0 bg-overlay animate-fade-in" onClick={onClose} />
      <div
        ref={ref}
        role="dialog"
        aria-modal="true"
        aria-label={label}
        tabIndex={-1}
        className={cn(
          "absolute inset-y-0 flex max-w-full flex-col bg-surface shadow-2xl outline-none",
          side === "left" ? "left-0 animate-slide-in-left" : "right-0 animate-slide-in-right",
          className,
        )}
      >
        {children}
      </div>
    </div>,
    document.body,
  );
}
