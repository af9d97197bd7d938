import { loginInput } from "@cybros/protocol";
import { type FormEvent, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { ApiError, errorMessage } from "../lib/api";
import { useFieldErrors, validate } from "../lib/forms";
import { Button, Field, Input } from "../ui";
import { AuthLayout } from "./AuthLayout";
import { safeNext } from "./guards";
import { useLogin } from "./session";

/** Sign in; one generic message for a wrong email or password, then back to where the user was going. */
export function LoginPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const login = useLogin();
  const { errors, setErrors, clear } = useFieldErrors();
  const [values, setValues] = useState({ email: "", password: "" });
  const update = (field: "email" | "password") => (e: React.ChangeEvent<HTMLInputElement>) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    clear(field);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const local = validate(loginInput, values);
    if (local) return setErrors(local);
    login.mutate(values, {
      onSuccess: () => navigate(safeNext(params.get("next")), { replace: true }),
      onError: (error) => setErrors(error instanceof ApiError ? error.fields : {}),
    });
  };

  const banner =
    login.error && !(login.error instanceof ApiError && login.error.hasFields) ? errorMessage(login.error) : null;
  return (
    <AuthLayout title="Sign in" subtitle="Welcome back. Sign in to continue to your agents.">
      <form noValidate onSubmit={submit} className="flex flex-col gap-4">
        {banner ? (
          <p role="alert" className="rounded-lg bg-danger-soft px-3 py-2 text-sm text-danger-text">
            {banner}
          </p>
        ) : null}
        <Field label="Email" error={errors.email}>
          <Input type="email" autoComplete="username" value={values.email} onChange={update("email")} autoFocus />
        </Field>
        <Field label="Password" error={errors.password}>
          <Input
            type="password"
            autoComplete="current-password"
            value={values.password}
            onChange={update("password")}
          />
        </Field>
        <Button type="submit" variant="primary" size="lg" busy={login.isPending} className="mt-2 w-full">
          Sign in
        </Button>
      </form>
    </AuthLayout>
  );
}
