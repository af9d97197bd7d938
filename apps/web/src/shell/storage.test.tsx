import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, expect, it } from "vitest";
import { useStoredState } from "./storage";

afterEach(() => {
  cleanup();
  window.localStorage.clear();
});

function Toggle() {
  const [shown, setShown] = useStoredState("cybros.test.shown", false);
  return (
    <button type="button" onClick={() => setShown(!shown)}>
      toggle
    </button>
  );
}

function Panel() {
  const [shown] = useStoredState("cybros.test.shown", false);
  return shown ? <p>panel</p> : null;
}

it("shows a change to every component using the key at once, and keeps it", () => {
  render(
    <>
      <Toggle />
      <Panel />
    </>,
  );
  expect(screen.queryByText("panel")).toBeNull();
  act(() => screen.getByRole("button").click());
  expect(screen.getByText("panel")).toBeTruthy();
  expect(window.localStorage.getItem("cybros.test.shown")).toBe("true");
  act(() => screen.getByRole("button").click());
  expect(screen.queryByText("panel")).toBeNull();
});
