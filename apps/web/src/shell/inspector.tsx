import { X } from "lucide-react";
import {
  createContext,
  type ReactNode,
  useContext,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { createPortal } from "react-dom";
import { Drawer, IconButton } from "../ui";
import { useBreakpoint } from "./media";

type Registration = { id: string; title: string; onClose: () => void };

type HostActions = {
  register: (registration: Registration) => void;
  unregister: (id: string) => void;
};

const ActionsContext = createContext<HostActions | null>(null);
const ContainerContext = createContext<HTMLElement | null>(null);

/**
 * The right-hand inspector. A view renders `<Inspector open title onClose>` with live content; the agent layout's
 * host shows it docked beside the main pane on desktop, as an overlay drawer on tablet and as a full-screen modal
 * on phones. Content stays owned (and updated) by the view that renders it; unmounting the view closes it.
 */
export function Inspector({
  open,
  title,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const actions = useContext(ActionsContext);
  const container = useContext(ContainerContext);
  const id = useId();
  const close = useRef(onClose);
  close.current = onClose;

  useLayoutEffect(() => {
    if (!actions || !open) return;
    actions.register({ id, title, onClose: () => close.current() });
    return () => actions.unregister(id);
  }, [actions, open, id, title]);

  if (!actions || !open || !container) return null;
  return createPortal(children, container);
}

/** True inside the agent layout, where an inspector can be shown. */
export function useInspectorAvailable(): boolean {
  return useContext(ActionsContext) !== null;
}

function InspectorPanel({
  title,
  onClose,
  setContainer,
  headingId,
}: {
  title: string;
  onClose: () => void;
  setContainer: (el: HTMLElement | null) => void;
  headingId: string;
}) {
  return (
    <>
      <div className="flex h-14 shrink-0 items-center justify-between gap-2 border-b border-line px-4">
        <h2 id={headingId} className="truncate text-sm font-semibold text-fg">
          {title}
        </h2>
        <IconButton label="Close inspector" size="sm" onClick={onClose}>
          <X />
        </IconButton>
      </div>
      <div ref={setContainer} className="min-h-0 flex-1 overflow-y-auto p-4" />
    </>
  );
}

/** For the agent layout: wraps the page in the inspector's context and gives the panel to place on the right. */
export function useInspectorHost(): { provider: (children: ReactNode) => ReactNode; slot: ReactNode } {
  const [current, setCurrent] = useState<Registration | null>(null);
  const [container, setContainer] = useState<HTMLElement | null>(null);
  const breakpoint = useBreakpoint();
  const headingId = useId();
  const opener = useRef<HTMLElement | null>(null);

  const actions = useMemo<HostActions>(
    () => ({
      register: (registration) => {
        setCurrent((previous) => {
          if (!previous && document.activeElement instanceof HTMLElement) opener.current = document.activeElement;
          return registration;
        });
      },
      unregister: (id) => setCurrent((previous) => (previous?.id === id ? null : previous)),
    }),
    [],
  );

  const open = current !== null;
  // Docked panels do not trap focus; when one closes and focus went with it, give it back to the opener.
  useEffect(() => {
    if (open || !opener.current) return;
    const lost = !document.activeElement || document.activeElement === document.body;
    if (opener.current.isConnected && lost) opener.current.focus();
    opener.current = null;
  }, [open]);

  let slot: ReactNode = null;
  if (current && breakpoint === "desktop") {
    slot = (
      <aside
        aria-labelledby={headingId}
        onKeyDown={(e) => {
          if (e.key === "Escape") current.onClose();
        }}
        className="flex w-[380px] shrink-0 flex-col border-l border-line bg-surface animate-fade-in"
      >
        <InspectorPanel
          title={current.title}
          onClose={current.onClose}
          setContainer={setContainer}
          headingId={headingId}
        />
      </aside>
    );
  } else if (current) {
    slot = (
      <Drawer
        open
        onClose={current.onClose}
        side="right"
        label={current.title}
        className={breakpoint === "mobile" ? "w-full" : "w-[420px]"}
      >
        <InspectorPanel
          title={current.title}
          onClose={current.onClose}
          setContainer={setContainer}
          headingId={headingId}
        />
      </Drawer>
    );
  }

  return {
    provider: (children) => (
      <ActionsContext.Provider value={actions}>
        <ContainerContext.Provider value={open ? container : null}>{children}</ContainerContext.Provider>
      </ActionsContext.Provider>
    ),
    slot,
  };
}
