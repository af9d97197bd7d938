import { useEffect } from "react";

/** Sets the tab title: "Page · Cybros". */
export function useTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Cybros` : "Cybros";
  }, [title]);
}
