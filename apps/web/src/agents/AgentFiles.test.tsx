import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ToastProvider } from "../ui";
import { AgentFiles } from "./AgentFiles";

/** A small fake of the agent file routes: the files on "disk" change when a PUT saves one. */
let disk: Record<string, string>;
let puts: Array<{ url: string; body: { content: string; message?: string } }>;

const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } });

beforeEach(() => {
  disk = { "agent.yml": "name: Notes\n", "skills/web/SKILL.md": "# Web\n" };
  puts = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const { pathname } = new URL(url, "http://x");
      const file = decodeURIComponent(pathname.replace(/^\/api\/agents\/a1\/files\/?/, ""));
      if (init?.method === "PUT") {
        puts.push({ url: pathname, body: JSON.parse(String(init.body)) });
        disk[file] = JSON.parse(String(init.body)).content;
        return json({ commit: "abcdef1234" });
      }
      if (pathname === "/api/agents/a1/files") {
        return json({ files: Object.keys(disk).map((path) => ({ path, size: disk[path]!.length })), editable: true });
      }
      if (pathname === "/api/agents/a1/status") return json({ head: "abcdef1234", changes: [] });
      if (file in disk) return json({ path: file, content: disk[file], editable: true });
      return json({});
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function show() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <MemoryRouter>
        <ToastProvider>
          <AgentFiles agentId="a1" />
        </ToastProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

async function addFile(path: string) {
  fireEvent.click(await screen.findByRole("button", { name: "New file" }));
  fireEvent.change(screen.getByLabelText("Path"), { target: { value: path } });
  fireEvent.click(screen.getByRole("button", { name: "Add" }));
}

describe("adding a file to an agent", () => {
  it("refuses a path that is taken, leaves the folder or is hidden, saying so under the field", async () => {
    show();
    await addFile("agent.yml");
    expect(screen.getByText("Path is already a file of this agent")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Path"), { target: { value: "../secrets.txt" } });
    fireEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(screen.getByText("Path must be relative to the agent's folder, without ..")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Path"), { target: { value: "skills/.cache" } });
    fireEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(screen.getByText("Path must not name a hidden file or folder")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Path"), { target: { value: "skills/web" } });
    fireEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(screen.getByText("Path is a folder of this agent")).toBeTruthy();
    expect(puts).toEqual([]);
  });

  it("opens an empty editor for a new path, and Save creates the file with an Add commit", async () => {
    show();
    await addFile("notes/ideas.md");
    const tree = screen.getByRole("navigation", { name: "Agent files" });
    expect(
      within(tree)
        .getByRole("button", { name: /ideas\.md/ })
        .getAttribute("aria-current"),
    ).toBe("true");
    expect(screen.getByText("New, unsaved")).toBeTruthy();
    const editor = screen.getByLabelText("Contents of notes/ideas.md") as HTMLTextAreaElement;
    expect(editor.value).toBe("");

    fireEvent.change(editor, { target: { value: "- a first idea\n" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(puts).toHaveLength(1));
    expect(puts[0]).toEqual({
      url: "/api/agents/a1/files/notes/ideas.md",
      body: { content: "- a first idea\n", message: "Add notes/ideas.md" },
    });
    // Saved, it is a file like the others: loaded from the server, no longer new.
    await waitFor(() => expect(screen.queryByText("New, unsaved")).toBeNull());
    expect((screen.getByLabelText("Contents of notes/ideas.md") as HTMLTextAreaElement).value).toBe("- a first idea\n");
  });

  it("Discard drops a new file that was never saved", async () => {
    show();
    await addFile("notes/draft.md");
    fireEvent.click(screen.getByRole("button", { name: "Discard" }));
    const tree = screen.getByRole("navigation", { name: "Agent files" });
    expect(within(tree).queryByRole("button", { name: /draft\.md/ })).toBeNull();
    expect(puts).toEqual([]);
  });
});
