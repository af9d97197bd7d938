import type { ConversationSummary } from "@cybros/protocol";
import { Archive, MessageSquare, MoreHorizontal, Search, X } from "lucide-react";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { NavLink } from "react-router";
import { errorMessage } from "../lib/api";
import { cn, IconButton, LoadError, Menu, Skeleton, Spinner } from "../ui";
import { useConversationActions } from "./actions";
import { groupByRecency } from "./grouping";
import { useListFilter } from "./listFilter";
import { useConversationList } from "./queries";

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** Loads the next page when the sentinel scrolls into view. */
function useInfiniteSentinel(onVisible: () => void, enabled: boolean) {
  const ref = useRef<HTMLDivElement>(null);
  const callback = useRef(onVisible);
  callback.current = onVisible;
  useEffect(() => {
    const el = ref.current;
    if (!el || !enabled || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) callback.current();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [enabled]);
  return ref;
}

/** The sidebar's conversation list: search, archived filter, recency groups, infinite scroll, row actions. */
export function ConversationList() {
  const { search, setSearch, archived, setArchived } = useListFilter();
  const q = useDebounced(search, 250);
  const list = useConversationList({ q, archived });
  const { itemsFor, dialogs } = useConversationActions();
  const searchId = useId();

  const conversations = useMemo(() => list.data?.pages.flatMap((p) => p.conversations) ?? [], [list.data]);
  const groups = useMemo(() => groupByRecency(conversations), [conversations]);
  const sentinel = useInfiniteSentinel(() => {
    if (list.hasNextPage && !list.isFetchingNextPage) list.fetchNextPage();
  }, Boolean(list.hasNextPage));

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="flex items-center gap-1 px-3 pb-2">
        <div className="relative min-w-0 flex-1">
          <label htmlFor={searchId} className="sr-only">
            Search conversations
          </label>
          <Search
            aria-hidden
            className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-fg-subtle"
          />
          <input
            id={searchId}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape" && search) {
                e.stopPropagation();
                setSearch("");
              }
            }}
            placeholder="Search"
            className="h-8 w-full rounded-lg border border-transparent bg-surface-2 pr-7 pl-8 text-sm text-fg placeholder:text-fg-subtle focus-visible:border-line-strong focus-visible:bg-surface focus-visible:outline-none [&::-webkit-search-cancel-button]:hidden"
          />
          {search ? (
            <button
              type="button"
              aria-label="Clear search"
              onClick={() => setSearch("")}
              className="absolute top-1/2 right-1.5 -translate-y-1/2 rounded p-0.5 text-fg-subtle hover:text-fg"
            >
              <X aria-hidden className="size-3.5" />
            </button>
          ) : null}
        </div>
        <IconButton
          label={archived ? "Show active conversations" : "Show archived conversations"}
          aria-pressed={archived}
          size="sm"
          onClick={() => setArchived(!archived)}
          className={cn(
            "size-8",
            archived && "bg-accent-soft text-accent-text hover:bg-accent-soft hover:text-accent-text",
          )}
        >
          <Archive />
        </IconButton>
      </div>

      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-3" aria-busy={list.isPending}>
        {archived ? <p className="px-2 pt-1 pb-2 text-xs font-medium text-fg-subtle">Archived conversations</p> : null}
        {list.isPending ? (
          <div role="status" className="flex flex-col gap-2 px-2 pt-2" aria-label="Loading conversations">
            {[70, 55, 80, 60].map((w) => (
              <Skeleton key={w} className="h-5" />
            ))}
          </div>
        ) : list.isError ? (
          <div className="px-1 pt-2">
            <LoadError message={errorMessage(list.error)} onRetry={() => list.refetch()} />
          </div>
        ) : groups.length === 0 ? (
          <p className="px-2 pt-3 text-sm text-fg-subtle">
            {q.trim()
              ? `No conversations match “${q.trim()}”.`
              : archived
                ? "No archived conversations."
                : "No conversations yet."}
          </p>
        ) : (
          groups.map((group) => (
            <section key={group.label} aria-label={group.label} className="mb-3">
              <h3 className="px-2 pt-2 pb-1 text-xs font-medium text-fg-subtle">{group.label}</h3>
              <ul className="flex flex-col gap-px">
                {group.items.map((conversation) => (
                  <ConversationRow key={conversation.id} conversation={conversation} items={itemsFor(conversation)} />
                ))}
              </ul>
            </section>
          ))
        )}
        <div ref={sentinel} className="h-px" />
        {list.isFetchingNextPage ? (
          <div className="flex justify-center py-2">
            <Spinner label="Loading older conversations" />
          </div>
        ) : null}
      </div>
      {dialogs}
    </div>
  );
}

function ConversationRow({
  conversation,
  items,
}: {
  conversation: ConversationSummary;
  items: ReturnType<ReturnType<typeof useConversationActions>["itemsFor"]>;
}) {
  return (
    <li className="group relative">
      <NavLink
        to={`/conversations/${conversation.id}`}
        className={({ isActive }) =>
          cn(
            "flex h-9 items-center gap-2 rounded-lg pr-9 pl-2 text-sm transition-colors",
            isActive ? "bg-surface-3 font-medium text-fg" : "text-fg-muted hover:bg-surface-3/60 hover:text-fg",
          )
        }
        title={conversation.title}
      >
        <MessageSquare aria-hidden className="size-4 shrink-0 opacity-60 md:hidden" />
        <span className="truncate">{conversation.title || "Untitled"}</span>
      </NavLink>
      <div className="absolute top-1/2 right-1 -translate-y-1/2 opacity-100 transition-opacity md:opacity-0 md:group-focus-within:opacity-100 md:group-hover:opacity-100 md:has-[[aria-expanded=true]]:opacity-100">
        <Menu
          items={items}
          trigger={(props) => (
            <IconButton {...props} label={`Options for ${conversation.title || "Untitled"}`} size="sm">
              <MoreHorizontal />
            </IconButton>
          )}
        />
      </div>
    </li>
  );
}
