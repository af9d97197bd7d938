import { type RefObject, useEffect, useRef } from "react";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

export function focusableIn(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.closest("[inert]") && el.getAttribute("aria-hidden") !== "true",
  );
}

/** Open layers (dialogs, drawers, menus), innermost last: only the top one reacts to Escape and traps Tab. */
const layers: symbol[] = [];

/**
 * Traps focus inside `ref` while `active`: focuses `[data-autofocus]` or the first control on open, keeps Tab
 * cycling inside, closes on Escape (top layer only) and gives focus back to whatever had it before.
 */
export function useFocusTrap(ref: RefObject<HTMLElement | null>, active: boolean, onEscape?: () => void): void {
  const escapeHandler = useRef(onEscape);
  escapeHandler.current = onEscape;

  useEffect(() => {
    if (!active) return;
    const root = ref.current;
    if (!root) return;
    const id = Symbol("layer");
    layers.push(id);
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const first = root.querySelector<HTMLElement>("[data-autofocus]") ?? focusableIn(root)[0] ?? root;
    first.focus();

    const onKeyDown = (event: KeyboardEvent) => {
      if (layers[layers.length - 1] !== id) return;
      if (event.key === "Escape" && escapeHandler.current) {
        event.preventDefault();
        event.stopPropagation();
        escapeHandler.current();
        return;
      }
      if (event.key !== "Tab") return;
      const items = focusableIn(root);
      if (items.length === 0) {
        event.preventDefault();
        root.focus();
        return;
      }
      const head = items[0]!;
      const tail = items[items.length - 1]!;
      const current = document.activeElement;
      if (event.shiftKey && (current === head || !root.contains(current))) {
        event.preventDefault();
        tail.focus();
      } else if (!event.shiftKey && (current === tail || !root.contains(current))) {
        event.preventDefault();
        head.focus();
      }
    };
    document.addEventListener("keydown", onKeyDown, true);
    return () => {
      document.removeEventListener("keydown", onKeyDown, true);
      const index = layers.indexOf(id);
      if (index >= 0) layers.splice(index, 1);
      if (previous?.isConnected) previous.focus();
    };
  }, [active, ref]);
}

/** True while some dialog or drawer is open; global shortcuts stay quiet then. */
export function hasOpenLayer(): boolean {
  return layers.length > 0;
}
