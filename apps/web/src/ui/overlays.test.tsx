import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Button } from "./Button";
import { ConfirmDialog } from "./ConfirmDialog";
import { Dialog } from "./Dialog";
import { Menu } from "./Menu";

afterEach(cleanup);

function DialogHarness() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>Open</Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Rename" footer={<Button>Save</Button>}>
        <input aria-label="Title" data-autofocus />
      </Dialog>
    </>
  );
}

describe("Dialog", () => {
  it("focuses its autofocus control, traps Tab, closes on Escape and gives focus back", () => {
    render(<DialogHarness />);
    const opener = screen.getByRole("button", { name: "Open" });
    opener.focus();
    fireEvent.click(opener);
    const dialog = screen.getByRole("dialog", { name: "Rename" });
    expect(document.activeElement).toBe(screen.getByLabelText("Title"));

    // Tab from the last control wraps to the first; Shift+Tab from the first wraps to the last.
    const save = screen.getByRole("button", { name: "Save" });
    save.focus();
    fireEvent.keyDown(document, { key: "Tab" });
    expect(dialog.contains(document.activeElement)).toBe(true);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Close" }));
    fireEvent.keyDown(document, { key: "Tab", shiftKey: true });
    expect(document.activeElement).toBe(save);

    fireEvent.keyDown(document, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it("closes only the top layer on Escape", () => {
    const outer = vi.fn();
    const inner = vi.fn();
    render(
      <>
        <Dialog open onClose={outer} title="Outer">
          <p>outer</p>
        </Dialog>
        <ConfirmDialog
          open
          title="Sure?"
          description="Really"
          confirmLabel="Delete"
          onConfirm={() => {}}
          onCancel={inner}
        />
      </>,
    );
    fireEvent.keyDown(document, { key: "Escape" });
    expect(inner).toHaveBeenCalledOnce();
    expect(outer).not.toHaveBeenCalled();
  });

  it("gives the safe choice focus in a confirmation", () => {
    render(
      <ConfirmDialog
        open
        title="Delete?"
        description="Gone for good"
        confirmLabel="Delete"
        onConfirm={() => {}}
        onCancel={() => {}}
      />,
    );
    expect(screen.getByRole("alertdialog", { name: "Delete?" })).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Cancel" }));
  });
});

describe("Menu", () => {
  it("opens from the keyboard, moves with arrows, selects, and returns focus to its button", () => {
    const rename = vi.fn();
    const remove = vi.fn();
    render(
      <Menu
        items={[
          { label: "Rename", onSelect: rename },
          { label: "Delete", onSelect: remove, destructive: true },
        ]}
        trigger={(props) => (
          <button type="button" {...props}>
            Options
          </button>
        )}
      />,
    );
    const trigger = screen.getByRole("button", { name: "Options" });
    expect(trigger.getAttribute("aria-expanded")).toBe("false");
    fireEvent.keyDown(trigger, { key: "ArrowDown" });
    expect(trigger.getAttribute("aria-expanded")).toBe("true");
    const items = screen.getAllByRole("menuitem");
    expect(document.activeElement).toBe(items[0]);
    fireEvent.keyDown(items[0]!, { key: "ArrowDown" });
    expect(document.activeElement).toBe(items[1]);
    fireEvent.keyDown(items[1]!, { key: "ArrowDown" });
    expect(document.activeElement).toBe(items[0]);
    fireEvent.keyDown(items[0]!, { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(trigger);

    fireEvent.click(trigger);
    fireEvent.click(screen.getByRole("menuitem", { name: "Delete" }));
    expect(remove).toHaveBeenCalledOnce();
    expect(rename).not.toHaveBeenCalled();
    expect(screen.queryByRole("menu")).toBeNull();
  });
});
