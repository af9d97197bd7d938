import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Field, Input, sentence } from "./Field";

afterEach(cleanup);

describe("Field", () => {
  it("labels its control and shows no error by default", () => {
    render(
      <Field label="Email" hint="We never share it.">
        <Input />
      </Field>,
    );
    const input = screen.getByLabelText("Email");
    expect(input.getAttribute("aria-invalid")).toBeNull();
    expect(screen.getByText("We never share it.")).toBeTruthy();
    expect(input.getAttribute("aria-describedby")).toContain("hint");
  });

  it("shows the server's message as a sentence under the field and marks the control invalid", () => {
    render(
      <Field label="Headers" error="is not valid JSON" hint="A JSON object.">
        <Input />
      </Field>,
    );
    const input = screen.getByLabelText("Headers");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const message = screen.getByText("Headers is not valid JSON");
    expect(input.getAttribute("aria-describedby")).toBe(message.id);
    // The hint steps aside while there is an error.
    expect(screen.queryByText("A JSON object.")).toBeNull();
  });

  it("leaves messages that are already sentences alone", () => {
    expect(sentence("Email", "Enter an email")).toBe("Enter an email");
    expect(sentence("Email", "is required")).toBe("Email is required");
  });
});
