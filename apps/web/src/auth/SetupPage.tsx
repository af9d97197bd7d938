import { setupInput } from "@cybros/protocol";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router";
import { formError } from "../lib/api";
import { useFieldErrors, validate } from "../lib/forms";
import { Button, Field, Input } from "../ui";
import { AuthLayout } from "./AuthLayout";
import { useSetup } from "./session";

const FIELDS = ["email", "password", "passwordConfirmation"] as const;

/** First run: create the owner's account, then go straight to the conversations page. */
export function SetupPage() {
  const navigate = useNavigate();
  const setup = useSetup();
  const { errors, setErrors, clear, fromError } = useFieldErrors();
  const [values, setValues] = useState({ email: "", password: "", passwordConfirmation: "" });
  const update = (field: (typeof FIELDS)[number]) => (e: React.ChangeEvent<HTMLInputElement>) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    clear(field);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const local = validate(setupInput, values);
    if (local) return setErrors(local);
    setup.mutate(values, {
      onSuccess: () => navigate("/conversations", { replace: true }),
      onError: fromError,
    });
  };

  const banner = formError(setup.error, FIELDS);
  return (
    <AuthLayout
      title="Welcome to Cybros"
      subtitle="Create the owner account for this installation. You can change the password later in Settings."
    >
      <form noValidate onSubmit={submit} className="flex flex-col gap-4">
        {banner ? (
          <p role="alert" className="rounded-lg bg-danger-soft px-3 py-2 text-sm text-danger-text">
            {banner}
          </p>
        ) : null}
        <Field label="Email" error={errors.email}>
          <Input
            type="email"
            autoComplete="email"
            value={values.email}
            onChange={update("email")}
            data-autofocus
            autoFocus
          />
        </Field>
        <Field label="Password" error={errors.password} hint="At least 8 characters.">
          <Input type="password" autoComplete="new-password" value={values.password} onChange={update("password")} />
        </Field>
        <Field label="Confirm password" error={errors.passwordConfirmation}>
          <Input
            type="password"
            autoComplete="new-password"
            value={values.passwordConfirmation}
            onChange={update("passwordConfirmation")}
          />
        </Field>
        <Button type="submit" variant="primary" size="lg" busy={setup.isPending} className="mt-2 w-full">
          Create account
        </Button>
      </form>
    </AuthLayout>
  );
}
