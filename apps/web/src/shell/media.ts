import { useSyncExternalStore } from "react";

/** Tracks a CSS media query; false during tests or wherever matchMedia is missing. */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (notify) => {
      if (typeof window.matchMedia !== "function") return () => {};
      const list = window.matchMedia(query);
      list.addEventListener("change", notify);
      return () => list.removeEventListener("change", notify);
    },
    () => (typeof window.matchMedia === "function" ? window.matchMedia(query).matches : false),
    () => false,
  );
}

/** Phone: sidebar and inspector become drawers. Desktop: all three panes side by side. */
export function useBreakpoint(): "mobile" | "tablet" | "desktop" {
  const tablet = useMediaQuery("(min-width: 768px)");
  const desktop = useMediaQuery("(min-width: 1280px)");
  return desktop ? "desktop" : tablet ? "tablet" : "mobile";
}
