import { passwordChangeInput, type SessionSummary } from "@cybros/protocol";
import { LogOut, Monitor, Smartphone } from "lucide-react";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router";
import { useChangePassword, useCurrentUser, useSessions, useSignOutEverywhere } from "../auth/session";
import { errorMessage, formError } from "../lib/api";
import { useFieldErrors, validate } from "../lib/forms";
import { relativeTime } from "../lib/time";
import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import { SettingsBody } from "../shell/SettingsLayout";
import { Badge, Button, Card, ConfirmDialog, Field, Input, LoadError, Section, Skeleton, useToast } from "../ui";

/** /settings — personal: who you are, your password, where you are signed in. */
export function SettingsPage() {
  useTitle("Settings");
  return (
    <>
      <PageHeader title="Settings" />
      <SettingsBody>
        <ProfileSection />
        <PasswordSection />
        <SessionsSection />
      </SettingsBody>
    </>
  );
}

function ProfileSection() {
  const user = useCurrentUser();
  return (
    <Section id="profile" title="Profile" description="The account you sign in with.">
      <Card className="divide-y divide-line">
        <div className="flex flex-wrap items-center justify-between gap-2 px-4 py-3">
          <span className="text-sm text-fg-muted">Email</span>
          <span className="text-sm font-medium text-fg">{user?.email}</span>
        </div>
        <div className="flex flex-wrap items-center justify-between gap-2 px-4 py-3">
          <span className="text-sm text-fg-muted">Role</span>
          <Badge tone="accent">{user?.role === "owner" ? "Owner" : user?.role}</Badge>
        </div>
      </Card>
    </Section>
  );
}

const PASSWORD_FIELDS = ["currentPassword", "newPassword", "newPasswordConfirmation"] as const;
const EMPTY_PASSWORDS = { currentPassword: "", newPassword: "", newPasswordConfirmation: "" };

function PasswordSection() {
  const change = useChangePassword();
  const toast = useToast();
  const { errors, setErrors, clear, fromError } = useFieldErrors();
  const [values, setValues] = useState(EMPTY_PASSWORDS);
  const update = (field: (typeof PASSWORD_FIELDS)[number]) => (e: React.ChangeEvent<HTMLInputElement>) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    clear(field);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const local = validate(passwordChangeInput, values);
    if (local) return setErrors(local);
    change.mutate(values, {
      onSuccess: () => {
        setValues(EMPTY_PASSWORDS);
        setErrors({});
        toast.show("Password changed. Other devices were signed out.");
      },
      onError: fromError,
    });
  };

  const banner = formError(change.error, PASSWORD_FIELDS);
  return (
    <Section id="password" title="Password" description="Changing it signs you out everywhere except here.">
      <Card className="p-4 sm:p-5">
        <form noValidate onSubmit={submit} className="flex max-w-md flex-col gap-4">
          {banner ? (
            <p role="alert" className="rounded-lg bg-danger-soft px-3 py-2 text-sm text-danger-text">
              {banner}
            </p>
          ) : null}
          <Field label="Current password" error={errors.currentPassword}>
            <Input
              type="password"
              autoComplete="current-password"
              value={values.currentPassword}
              onChange={update("currentPassword")}
            />
          </Field>
          <Field label="New password" error={errors.newPassword} hint="At least 8 characters.">
            <Input
              type="password"
              autoComplete="new-password"
              value={values.newPassword}
              onChange={update("newPassword")}
            />
          </Field>
          <Field label="Confirm new password" error={errors.newPasswordConfirmation}>
            <Input
              type="password"
              autoComplete="new-password"
              value={values.newPasswordConfirmation}
              onChange={update("newPasswordConfirmation")}
            />
          </Field>
          <div>
            <Button type="submit" variant="primary" busy={change.isPending}>
              Change password
            </Button>
          </div>
        </form>
      </Card>
    </Section>
  );
}

/** "Chrome on macOS" from a user agent string; good enough to recognise one's own devices. */
export function describeUserAgent(ua: string | null): string {
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrome\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : /curl|node|undici/i.test(ua)
            ? "Script"
            : "Browser";
  const os = /iPhone|iPad/.test(ua)
    ? "iOS"
    : /Android/.test(ua)
      ? "Android"
      : /Mac OS X|Macintosh/.test(ua)
        ? "macOS"
        : /Windows/.test(ua)
          ? "Windows"
          : /Linux/.test(ua)
            ? "Linux"
            : null;
  return os ? `${browser} on ${os}` : browser;
}

function SessionsSection() {
  const sessions = useSessions();
  const signOutAll = useSignOutEverywhere();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);

  return (
    <Section
      id="sessions"
      title="Sessions"
      description="Where you are signed in."
      action={
        <Button
          size="sm"
          variant="secondary"
          icon={<LogOut aria-hidden className="size-4" />}
          onClick={() => setConfirming(true)}
        >
          Sign out everywhere
        </Button>
      }
    >
      {sessions.isPending ? (
        <Skeleton className="h-32 rounded-xl" />
      ) : sessions.isError ? (
        <LoadError message={errorMessage(sessions.error)} onRetry={() => sessions.refetch()} />
      ) : (
        <Card>
          <ul className="divide-y divide-line">
            {[...sessions.data]
              .sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt.localeCompare(a.lastSeenAt))
              .map((session) => (
                <SessionRow key={session.id} session={session} />
              ))}
          </ul>
        </Card>
      )}
      <ConfirmDialog
        open={confirming}
        title="Sign out everywhere?"
        description="Every session ends, this one included. You will need your password to sign in again."
        confirmLabel="Sign out everywhere"
        busy={signOutAll.isPending}
        error={signOutAll.error ? errorMessage(signOutAll.error) : null}
        onCancel={() => setConfirming(false)}
        onConfirm={() => signOutAll.mutate(undefined, { onSuccess: () => navigate("/login", { replace: true }) })}
      />
    </Section>
  );
}

function SessionRow({ session }: { session: SessionSummary }) {
  const mobile = /Mobile|iPhone|Android/.test(session.userAgent ?? "");
  const Icon = mobile ? Smartphone : Monitor;
  return (
    <li className="flex items-center gap-3 px-4 py-3">
      <Icon aria-hidden className="size-5 shrink-0 text-fg-subtle" />
      <div className="min-w-0 flex-1">
        <p className="flex flex-wrap items-center gap-2 text-sm font-medium text-fg">
          {describeUserAgent(session.userAgent)}
          {session.current ? <Badge tone="success">This device</Badge> : null}
        </p>
        <p className="truncate text-xs text-fg-subtle">
          {session.ip ?? "Unknown address"} · signed in {relativeTime(session.createdAt)} · last active{" "}
          {relativeTime(session.lastSeenAt)}
        </p>
      </div>
    </li>
  );
}
