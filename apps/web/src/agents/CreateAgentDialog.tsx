import { createAgentInput } from "@cybros/protocol";
import { type FormEvent, useEffect, useId, useState } from "react";
import { useNavigate } from "react-router";
import { errorMessage, formError } from "../lib/api";
import { useFieldErrors, validate } from "../lib/forms";
import { Button, cn, Dialog, Field, Input, LoadError, Skeleton, Textarea, useToast } from "../ui";
import { useAgentProfiles, useCreateAgent } from "./queries";

const FIELDS = ["name", "profile", "gitUrl", "blank", "description"] as const;

type Source = "profile" | "gitUrl" | "blank";
const SOURCES: { id: Source; label: string; hint: string }[] = [
  { id: "profile", label: "Profile", hint: "Copy a bundled agent." },
  { id: "gitUrl", label: "Git URL", hint: "Clone an agent program over https:// or file://." },
  { id: "blank", label: "Blank", hint: "A minimal agent that can edit itself." },
];

/**
 * New agent from a bundled profile, a Git URL, or blank; name it. Its files become a new git repository on the
 * server; a clone that is not a valid agent program is refused with the reason under the URL.
 */
export function CreateAgentDialog({ onClose, initialProfile }: { onClose: () => void; initialProfile?: string }) {
  const profiles = useAgentProfiles();
  const create = useCreateAgent();
  const navigate = useNavigate();
  const toast = useToast();
  const formId = useId();
  const { errors, setErrors, clear, fromError } = useFieldErrors();
  const [source, setSource] = useState<Source>("profile");
  const [values, setValues] = useState({ profile: initialProfile ?? "", gitUrl: "", name: "", description: "" });

  // Preselect the first profile once they load.
  useEffect(() => {
    if (!values.profile && profiles.data?.[0]) setValues((v) => ({ ...v, profile: profiles.data[0]!.id }));
  }, [profiles.data, values.profile]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const input = {
      name: values.name,
      ...(source === "profile" ? { profile: values.profile } : {}),
      ...(source === "gitUrl" ? { gitUrl: values.gitUrl } : {}),
      ...(source === "blank" ? { blank: true as const } : {}),
      description: values.description.trim() ? values.description : undefined,
    };
    const local = validate(createAgentInput, input);
    if (local) return setErrors(local);
    create.mutate(input, {
      onSuccess: (agent) => {
        toast.show(`${agent.name} created`);
        onClose();
        navigate(`/agents/${agent.id}`);
      },
      onError: fromError,
    });
  };

  const banner = formError(create.error, FIELDS);
  return (
    <Dialog
      open
      onClose={onClose}
      title="New agent"
      description="Its files go into a new git repository you can change later."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            type="submit"
            form={formId}
            variant="primary"
            busy={create.isPending}
            disabled={source === "profile" && !profiles.data?.length}
          >
            Create agent
          </Button>
        </>
      }
    >
      <form id={formId} noValidate onSubmit={submit} className="flex flex-col gap-5">
        {banner ? (
          <p role="alert" className="rounded-lg bg-danger-soft px-3 py-2 text-sm text-danger-text">
            {banner}
          </p>
        ) : null}
        <fieldset>
          <legend className="mb-1.5 text-sm font-medium text-fg">Start from</legend>
          <div className="grid grid-cols-3 gap-1 rounded-lg bg-surface-2 p-1" role="radiogroup">
            {SOURCES.map((option) => (
              <label
                key={option.id}
                title={option.hint}
                className={cn(
                  "relative cursor-pointer rounded-md px-2 py-1.5 text-center text-sm font-medium transition-colors has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-ring",
                  source === option.id ? "bg-surface text-fg shadow-sm" : "text-fg-muted hover:text-fg",
                )}
              >
                <input
                  type="radio"
                  name="source"
                  value={option.id}
                  checked={source === option.id}
                  onChange={() => {
                    setSource(option.id);
                    clear("profile");
                    clear("gitUrl");
                    clear("blank");
                  }}
                  className="absolute inset-0 size-full cursor-pointer appearance-none rounded-md"
                />
                {option.label}
              </label>
            ))}
          </div>
          <p className="mt-1.5 text-sm text-fg-muted">{SOURCES.find((option) => option.id === source)!.hint}</p>
          {errors.blank ? <p className="mt-1.5 text-sm text-danger-text">{errors.blank}</p> : null}
        </fieldset>
        {source === "profile" ? (
          <fieldset>
            <legend className="mb-1.5 text-sm font-medium text-fg">Profile</legend>
            {profiles.isPending ? (
              <Skeleton className="h-16 rounded-lg" />
            ) : profiles.isError ? (
              <LoadError message={errorMessage(profiles.error)} onRetry={() => profiles.refetch()} />
            ) : profiles.data.length === 0 ? (
              <p className="text-sm text-fg-muted">No bundled profiles are installed.</p>
            ) : (
              <div className="flex flex-col gap-2">
                {profiles.data.map((profile) => {
                  const checked = values.profile === profile.id;
                  return (
                    <label
                      key={profile.id}
                      className={cn(
                        "flex cursor-pointer items-start gap-3 rounded-lg border p-3 transition-colors has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-ring",
                        checked ? "border-accent bg-accent-soft/50" : "border-line hover:bg-surface-2",
                      )}
                    >
                      <input
                        type="radio"
                        name="profile"
                        value={profile.id}
                        checked={checked}
                        onChange={() => {
                          setValues((v) => ({ ...v, profile: profile.id }));
                          clear("profile");
                        }}
                        className="mt-0.5 size-4 accent-[var(--app-accent)]"
                      />
                      <span className="min-w-0">
                        <span className="block text-sm font-medium text-fg">{profile.name}</span>
                        <span className="mt-0.5 block text-sm text-fg-muted">
                          {profile.description || "No description."}
                        </span>
                      </span>
                    </label>
                  );
                })}
              </div>
            )}
            {errors.profile ? <p className="mt-1.5 text-sm text-danger-text">Profile {errors.profile}</p> : null}
          </fieldset>
        ) : null}
        {source === "gitUrl" ? (
          <Field
            label="Git URL"
            error={errors.gitUrl}
            hint="https:// (public hosts) or file:// on the server. The repository must hold an agent.yml."
          >
            <Input
              value={values.gitUrl}
              maxLength={2000}
              inputMode="url"
              spellCheck={false}
              onChange={(e) => {
                setValues((v) => ({ ...v, gitUrl: e.target.value }));
                clear("gitUrl");
              }}
              placeholder="https://github.com/you/your-agent.git"
            />
          </Field>
        ) : null}
        <Field label="Name" error={errors.name} hint="How the agent appears in lists and conversations.">
          <Input
            value={values.name}
            maxLength={80}
            onChange={(e) => {
              setValues((v) => ({ ...v, name: e.target.value }));
              clear("name");
            }}
            placeholder="Research helper"
            data-autofocus
          />
        </Field>
        <Field label="Description (optional)" error={errors.description}>
          <Textarea
            rows={2}
            value={values.description}
            onChange={(e) => {
              setValues((v) => ({ ...v, description: e.target.value }));
              clear("description");
            }}
            placeholder="What this agent is for"
          />
        </Field>
      </form>
    </Dialog>
  );
}
