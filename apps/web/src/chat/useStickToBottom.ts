import { type RefObject, useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";

const THRESHOLD_PX = 80;

/**
 * Keeps a scroll container pinned to the bottom while its content grows, until the person scrolls up; scrolling
 * back down (or `scrollToBottom`) pins it again. `preserveFrom` keeps the view still while older messages are
 * prepended above it.
 */
export function useStickToBottom(scroller: RefObject<HTMLElement | null>, content: RefObject<HTMLElement | null>) {
  const stuck = useRef(true);
  const [atBottom, setAtBottom] = useState(true);
  const anchor = useRef<{ fromBottom: number; height: number } | null>(null);

  const pin = useCallback(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [scroller]);

  const scrollToBottom = useCallback(
    (behavior: ScrollBehavior = "auto") => {
      stuck.current = true;
      setAtBottom(true);
      const el = scroller.current;
      if (!el) return;
      if (typeof el.scrollTo === "function") el.scrollTo({ top: el.scrollHeight, behavior });
      else el.scrollTop = el.scrollHeight;
    },
    [scroller],
  );

  useEffect(() => {
    const el = scroller.current;
    const inner = content.current;
    if (!el || !inner) return;
    let lastTop = el.scrollTop;
    // Scroll events arrive a frame late, after more text may have landed: only a move up unpins (content
    // growing below never does), and reaching the bottom pins again.
    const onScroll = () => {
      const distance = el.scrollHeight - el.scrollTop - el.clientHeight;
      const movedUp = el.scrollTop < lastTop - 1;
      lastTop = el.scrollTop;
      if (distance <= THRESHOLD_PX) stuck.current = true;
      else if (movedUp) stuck.current = false;
      setAtBottom(stuck.current || distance <= THRESHOLD_PX);
    };
    // An upward gesture unpins at once, before the next chunk could pull the view back down.
    const onWheel = (event: WheelEvent) => {
      if (event.deltaY < 0) {
        stuck.current = false;
        setAtBottom(false);
      }
    };
    const onTouchMove = () => {
      const distance = el.scrollHeight - el.scrollTop - el.clientHeight;
      if (distance > THRESHOLD_PX) stuck.current = false;
    };
    const onKey = (event: KeyboardEvent) => {
      if (["PageUp", "ArrowUp", "Home"].includes(event.key)) stuck.current = false;
    };
    el.addEventListener("scroll", onScroll, { passive: true });
    el.addEventListener("wheel", onWheel, { passive: true });
    el.addEventListener("touchmove", onTouchMove, { passive: true });
    el.addEventListener("keydown", onKey);
    const observer = typeof ResizeObserver === "function" ? new ResizeObserver(() => stuck.current && pin()) : null;
    observer?.observe(inner);
    return () => {
      el.removeEventListener("scroll", onScroll);
      el.removeEventListener("wheel", onWheel);
      el.removeEventListener("touchmove", onTouchMove);
      el.removeEventListener("keydown", onKey);
      observer?.disconnect();
    };
  }, [scroller, content, pin]);

  /** Call before prepending content; the next layout keeps what was on screen where it was. */
  const preserveFrom = useCallback(() => {
    const el = scroller.current;
    if (el) anchor.current = { fromBottom: el.scrollHeight - el.scrollTop, height: el.scrollHeight };
  }, [scroller]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || anchor.current === null || el.scrollHeight === anchor.current.height) return;
    el.scrollTop = el.scrollHeight - anchor.current.fromBottom;
    anchor.current = null;
  });

  return { atBottom, scrollToBottom, preserveFrom, pinIfStuck: () => stuck.current && pin() };
}
