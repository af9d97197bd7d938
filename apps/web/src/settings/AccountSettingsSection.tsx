import { type AccountSettings, isEmbeddingModel } from "@cybros/protocol";
import { type FormEvent, useMemo, useState } from "react";
import { ApiError, errorMessage } from "../lib/api";
import { useProviders } from "../providers/queries";
import {
  Badge,
  Button,
  Card,
  Field,
  Input,
  LoadError,
  Section,
  Select,
  Skeleton,
  Switch,
  Textarea,
  useToast,
} from "../ui";
import {
  type AccountFormValues,
  accountFieldErrors,
  accountFormValues,
  accountSettingsInputOf,
  type WebSearchBackend,
} from "./accountForm";
import { useAccountSettings, useSaveAccountSettings } from "./queries";

const BACKENDS: Array<{ value: WebSearchBackend; label: string }> = [
  { value: "none", label: "None (web search off)" },
  { value: "searxng", label: "SearXNG (self-hosted)" },
  { value: "brave", label: "Brave Search API" },
  { value: "tavily", label: "Tavily" },
];

/** /system/settings → Account defaults: models, web search, private hosts, feature flags. */
export function AccountSettingsSection() {
  const settings = useAccountSettings();
  return (
    <Section
      id="account"
      title="Account defaults"
      description="Used by every agent unless its own files say otherwise."
    >
      {settings.isPending ? (
        <Skeleton className="h-80 rounded-xl" />
      ) : settings.isError ? (
        <LoadError message={errorMessage(settings.error)} onRetry={() => settings.refetch()} />
      ) : (
        <AccountSettingsForm settings={settings.data} />
      )}
    </Section>
  );
}

/**
 * Allowlisted models of the enabled providers for one picker, each under the provider that would serve it (the
 * highest priority, as model resolution picks) so no model is offered twice, plus the current value if nobody
 * serves it. The default model is offered chat models only; memory may use any (not every embedding model's id
 * says so).
 */
function useModelOptions(current: string, kind: "chat" | "embedding") {
  const providers = useProviders();
  return useMemo(() => {
    const enabled = (providers.data ?? []).filter((p) => p.enabled).sort((a, b) => b.priority - a.priority);
    const seen = new Set<string>();
    const groups = enabled
      .map((provider) => {
        const models = provider.modelAllowlist.filter(
          (m) => !seen.has(m) && (kind === "embedding" || !isEmbeddingModel(m)),
        );
        for (const m of models) seen.add(m);
        return { id: provider.id, name: provider.name, models };
      })
      .filter((group) => group.models.length > 0);
    const served = new Set(enabled.flatMap((p) => p.modelAllowlist));
    const orphans = current && !served.has(current) ? [current] : [];
    return { groups, orphans };
  }, [providers.data, current, kind]);
}

function ModelSelect({
  value,
  onChange,
  groups,
  orphans,
  none,
  ...aria
}: {
  value: string;
  onChange: (value: string) => void;
  groups: { id: string; name: string; models: string[] }[];
  orphans: string[];
  none: string;
  /** Set by Field. */
  id?: string;
  "aria-invalid"?: boolean;
  "aria-describedby"?: string;
}) {
  return (
    <Select {...aria} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{none}</option>
      {orphans.map((m) => (
        <option key={m} value={m}>
          {m} (no provider serves it)
        </option>
      ))}
      {groups.map((provider) => (
        <optgroup key={provider.id} label={provider.name}>
          {provider.models.map((m) => (
            <option key={`${provider.id}:${m}`} value={m}>
              {m}
            </option>
          ))}
        </optgroup>
      ))}
    </Select>
  );
}

function AccountSettingsForm({ settings }: { settings: AccountSettings }) {
  const save = useSaveAccountSettings();
  const toast = useToast();
  const [values, setValues] = useState<AccountFormValues>(() => accountFormValues(settings));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const chatModels = useModelOptions(values.defaultModel, "chat");
  const embeddingModels = useModelOptions(values.embeddingModel, "embedding");
  const keyed = values.backend === "brave" || values.backend === "tavily";
  const keyStored =
    settings.webSearch.backend === values.backend && "apiKeySet" in settings.webSearch && settings.webSearch.apiKeySet;

  const set = <K extends keyof AccountFormValues>(field: K, value: AccountFormValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    setErrors((all) => {
      if (!(field in all)) return all;
      const { [field]: _, ...rest } = all;
      return rest;
    });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(accountSettingsInputOf(values), {
      onSuccess: (saved) => {
        setValues(accountFormValues(saved));
        setErrors({});
        toast.show("Account settings saved");
      },
      onError: (error) => setErrors(error instanceof ApiError ? accountFieldErrors(error.fields) : {}),
    });
  };

  const banner =
    errors._ ??
    (save.error && !(save.error instanceof ApiError && save.error.hasFields) ? errorMessage(save.error) : null);
  const flags = Object.keys(values.features).sort();

  return (
    <Card className="p-4 sm:p-5">
      <form noValidate onSubmit={submit} className="flex flex-col gap-6">
        {banner ? (
          <p role="alert" className="rounded-lg bg-danger-soft px-3 py-2 text-sm text-danger-text">
            {banner}
          </p>
        ) : null}
        <div className="grid gap-5 sm:grid-cols-2">
          <Field
            label="Default model"
            error={errors.defaultModel}
            hint="Used when none of an agent’s preferred models is served."
          >
            <ModelSelect
              value={values.defaultModel}
              onChange={(v) => set("defaultModel", v)}
              groups={chatModels.groups}
              orphans={chatModels.orphans}
              none="None"
            />
          </Field>
          <Field
            label="Memory embedding model"
            error={errors.embeddingModel}
            hint="None: memory search matches words only."
          >
            <ModelSelect
              value={values.embeddingModel}
              onChange={(v) => set("embeddingModel", v)}
              groups={embeddingModels.groups}
              orphans={embeddingModels.orphans}
              none="None"
            />
          </Field>
        </div>

        <fieldset className="flex flex-col gap-4 border-t border-line pt-5">
          <legend className="sr-only">Web search</legend>
          <Field label="Web search backend" error={errors.backend} hint="What the web_search tool queries.">
            <Select value={values.backend} onChange={(e) => set("backend", e.target.value as WebSearchBackend)}>
              {BACKENDS.map((b) => (
                <option key={b.value} value={b.value}>
                  {b.label}
                </option>
              ))}
            </Select>
          </Field>
          {values.backend === "searxng" ? (
            <Field label="SearXNG URL" error={errors.searxngUrl} hint="Its JSON API must be enabled.">
              <Input
                value={values.searxngUrl}
                onChange={(e) => set("searxngUrl", e.target.value)}
                placeholder="http://searxng.local:8080"
                inputMode="url"
                spellCheck={false}
              />
            </Field>
          ) : null}
          {keyed ? (
            <Field
              label="API key"
              error={errors.apiKey}
              aside={<Badge tone={keyStored ? "success" : "neutral"}>{keyStored ? "set" : "not set"}</Badge>}
              hint={
                keyStored ? "Stored encrypted. Type a new key to replace it." : "Stored encrypted; never shown again."
              }
            >
              <Input
                type="password"
                autoComplete="new-password"
                value={values.apiKey}
                onChange={(e) => set("apiKey", e.target.value)}
                placeholder={keyStored ? "•••••••• (unchanged)" : ""}
                spellCheck={false}
              />
            </Field>
          ) : null}
        </fieldset>

        <div className="border-t border-line pt-5">
          <Field
            label="Private hosts agents may fetch"
            error={errors.webFetchAllowlist}
            hint="One host (or host:port) per line. web_fetch refuses private and loopback addresses unless listed here."
          >
            <Textarea
              rows={3}
              value={values.webFetchAllowlist}
              onChange={(e) => set("webFetchAllowlist", e.target.value)}
              placeholder={"searxng.local\n192.168.1.20:8080"}
              spellCheck={false}
              className="font-mono text-xs"
            />
          </Field>
        </div>

        <div className="flex flex-col gap-3 border-t border-line pt-5">
          <h3 className="text-sm font-medium text-fg">Feature flags</h3>
          {errors.features ? <p className="text-sm text-danger-text">Feature {errors.features}</p> : null}
          {flags.length === 0 ? (
            <p className="text-sm text-fg-subtle">No feature flags are available in this version.</p>
          ) : (
            flags.map((flag) => (
              <Switch
                key={flag}
                label={flag}
                checked={values.features[flag] ?? false}
                onChange={(checked) => set("features", { ...values.features, [flag]: checked })}
              />
            ))
          )}
        </div>

        <div className="flex justify-end border-t border-line pt-5">
          <Button type="submit" variant="primary" busy={save.isPending}>
            Save changes
          </Button>
        </div>
      </form>
    </Card>
  );
}
