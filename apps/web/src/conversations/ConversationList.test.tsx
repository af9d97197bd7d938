import type { ConversationSummary } from "@cybros/protocol";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ToastProvider } from "../ui";
import { ConversationList } from "./ConversationList";
import { resetListFilter } from "./listFilter";

function summary(id: string, title: string, lastMessageAt: Date): ConversationSummary {
  const at = lastMessageAt.toISOString();
  return {
    id,
    title,
    agentProgramId: "a",
    agentName: "Assistant",
    archivedAt: null,
    lastMessageAt: at,
    createdAt: at,
  };
}

const now = new Date();
const DAY = 24 * 60 * 60 * 1000;
const conversations = [
  summary("1", "Trip planning", now),
  summary("2", "Grocery list", new Date(now.getTime() - 3 * DAY)),
  summary("3", "Old notes", new Date(now.getTime() - 40 * DAY)),
];

let calls: Array<{ method: string; url: string }>;

beforeEach(() => {
  calls = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push({ method, url });
      if (method === "DELETE") return new Response(null, { status: 204 });
      const q = new URL(url, "http://x").searchParams.get("q") ?? "";
      const list = conversations.filter((c) => c.title.toLowerCase().includes(q.toLowerCase()));
      return new Response(JSON.stringify({ conversations: list, olderCursor: null }), {
        headers: { "Content-Type": "application/json" },
      });
    }),
  );
});
afterEach(() => {
  cleanup();
  resetListFilter();
  vi.unstubAllGlobals();
});

function renderList() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter>
        <ToastProvider>
          <ConversationList />
        </ToastProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe("ConversationList", () => {
  it("groups conversations by recency", async () => {
    renderList();
    const today = await screen.findByRole("region", { name: "Today" });
    expect(within(today).getByRole("link", { name: "Trip planning" })).toBeTruthy();
    expect(within(screen.getByRole("region", { name: "Previous 7 days" })).getByText("Grocery list")).toBeTruthy();
    expect(within(screen.getByRole("region", { name: "Older" })).getByText("Old notes")).toBeTruthy();
    expect(screen.queryByRole("region", { name: "Yesterday" })).toBeNull();
  });

  it("searches by title on the server", async () => {
    renderList();
    await screen.findByText("Trip planning");
    fireEvent.change(screen.getByLabelText("Search conversations"), { target: { value: "groc" } });
    await waitFor(() => expect(screen.queryByText("Trip planning")).toBeNull());
    expect(await screen.findByText("Grocery list")).toBeTruthy();
    expect(calls.some((c) => c.url.includes("q=groc"))).toBe(true);
  });

  it("asks before deleting, then deletes", async () => {
    renderList();
    await screen.findByText("Old notes");
    fireEvent.click(screen.getByRole("button", { name: "Options for Old notes" }));
    fireEvent.click(screen.getByRole("menuitem", { name: "Delete" }));
    const confirm = screen.getByRole("alertdialog", { name: "Delete conversation?" });
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    fireEvent.click(within(confirm).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByText("Old notes")).toBeNull());
    expect(calls).toContainEqual({ method: "DELETE", url: "/api/conversations/3" });
  });
});
