import { isEmbeddingModel, type ProviderView } from "@cybros/protocol";
import { Check, Download, Search } from "lucide-react";
import { type FormEvent, useId, useMemo, useState } from "react";
import { ApiError, errorMessage } from "../lib/api";
import { Badge, Button, cn, Dialog, Field, Input, Switch, Textarea } from "../ui";
import {
  apiKeyNeedsRetyping,
  baseUrlChanged,
  formFieldErrors,
  headersEditable,
  initialValues,
  type ProviderFormValues,
  toInput,
} from "./form";
import { ModelAllowlist } from "./ModelAllowlist";
import { useFetchModels, useSaveProvider } from "./queries";

/** Fills the allowlist outright when a provider offers only a few models; longer lists are picked from. */
const AUTO_FILL_LIMIT = 25;

/** Create or edit an LLM provider. Every server-side 422 message lands under its own field. */
export function ProviderDialog({ provider, onClose }: { provider: ProviderView | null; onClose: () => void }) {
  const editing = provider !== null;
  const save = useSaveProvider();
  const fetchModels = useFetchModels();
  const [values, setValues] = useState<ProviderFormValues>(() => initialValues(provider));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [available, setAvailable] = useState<string[] | null>(null);
  const [fetchNote, setFetchNote] = useState<{ ok: boolean; text: string } | null>(null);
  const formId = useId();
  const urlChanged = baseUrlChanged(values, provider);
  const retypeKey = apiKeyNeedsRetyping(values, provider);
  const showHeadersText = headersEditable(values, provider);

  const set = <K extends keyof ProviderFormValues>(field: K, value: ProviderFormValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    setErrors((all) => {
      const key = field === "clearApiKey" ? "apiKey" : field === "replaceHeaders" ? "headers" : field;
      // Whether the key and headers must be typed again depends on the base URL.
      const cleared = field === "baseUrl" ? ["baseUrl", "apiKey", "headers"] : [key];
      if (!cleared.some((k) => k in all)) return all;
      return Object.fromEntries(Object.entries(all).filter(([k]) => !cleared.includes(k)));
    });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(
      { id: provider?.id ?? null, input: toInput(values, provider) },
      {
        onSuccess: onClose,
        onError: (error) => setErrors(error instanceof ApiError ? formFieldErrors(error.fields) : {}),
      },
    );
  };

  const runFetch = () => {
    setFetchNote(null);
    const { apiKey, headers } = toInput(values, provider);
    fetchModels.mutate(
      {
        baseUrl: values.baseUrl,
        apiKey: apiKey ?? undefined,
        headers,
        // The saved key and headers are used only for the saved base URL (the server checks), and not at all once
        // the person asked to remove the key.
        providerId: values.clearApiKey ? undefined : provider?.id,
      },
      {
        onSuccess: (result) => {
          if (!result.ok) {
            setAvailable(null);
            setFetchNote({ ok: false, text: result.message });
            return;
          }
          setAvailable(result.models);
          const embeddings = embeddingNote(result.embeddingModels);
          if (result.models.length === 0) {
            setFetchNote({
              ok: false,
              text: `The provider listed no chat models. Type the model ids instead.${embeddings}`,
            });
          } else if (values.modelAllowlist.length === 0 && result.models.length <= AUTO_FILL_LIMIT) {
            set("modelAllowlist", result.models);
            setFetchNote({
              ok: true,
              text: `Added ${result.models.length} model${result.models.length === 1 ? "" : "s"}.${embeddings}`,
            });
          } else {
            setFetchNote({
              ok: true,
              text: `${result.models.length} models available. Pick the ones to allow.${embeddings}`,
            });
          }
        },
        onError: (error) => {
          if (error instanceof ApiError && error.hasFields)
            setErrors((all) => ({ ...all, ...formFieldErrors(error.fields) }));
          else setFetchNote({ ok: false, text: errorMessage(error) });
        },
      },
    );
  };

  const banner =
    errors._ ??
    (save.error && !(save.error instanceof ApiError && save.error.hasFields) ? errorMessage(save.error) : null);

  return (
    <Dialog
      open
      onClose={onClose}
      size="lg"
      title={editing ? `Edit ${provider.name}` : "Add an LLM provider"}
      description="Any OpenAI-compatible endpoint: OpenRouter, LM Studio, vLLM, or this server’s mock LLM."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form={formId} busy={save.isPending}>
            {editing ? "Save changes" : "Add provider"}
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
        <div className="grid gap-5 sm:grid-cols-2">
          <Field label="Name" error={errors.name}>
            <Input
              value={values.name}
              onChange={(e) => set("name", e.target.value)}
              placeholder="OpenRouter"
              data-autofocus
            />
          </Field>
          <Field label="Priority" error={errors.priority} hint="Higher wins when several providers serve a model.">
            <Input
              type="number"
              inputMode="numeric"
              step={1}
              value={values.priority}
              onChange={(e) => set("priority", e.target.value)}
            />
          </Field>
        </div>
        <Field
          label="Base URL"
          error={errors.baseUrl}
          hint={
            <>
              For example <code className="font-mono">https://openrouter.ai/api/v1</code> or{" "}
              <code className="font-mono">/mock_llm/v1</code> for the built-in mock.
            </>
          }
        >
          <Input
            value={values.baseUrl}
            onChange={(e) => set("baseUrl", e.target.value)}
            placeholder="https://…/v1"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        <Field
          label="API key"
          error={errors.apiKey}
          aside={
            editing ? (
              retypeKey && !values.apiKey.trim() ? (
                <Badge tone="warning">type again</Badge>
              ) : (
                <Badge tone={provider.apiKeySet && !values.clearApiKey ? "success" : "neutral"}>
                  {provider.apiKeySet && !values.clearApiKey ? "set" : "not set"}
                </Badge>
              )
            ) : null
          }
          hint={
            retypeKey
              ? "The base URL changed: type the key again. A saved key is only sent to the URL it was saved for."
              : editing && provider.apiKeySet
                ? "Stored encrypted and never shown. Type a new key to replace it."
                : "Stored encrypted; it is never sent back to the browser. Leave empty if the endpoint needs none."
          }
        >
          <Input
            type="password"
            autoComplete="new-password"
            value={values.apiKey}
            onChange={(e) => set("apiKey", e.target.value)}
            placeholder={
              retypeKey ? "Key for the new base URL" : editing && provider.apiKeySet ? "•••••••• (unchanged)" : "sk-…"
            }
            disabled={values.clearApiKey}
            spellCheck={false}
          />
        </Field>
        {editing && provider.apiKeySet ? (
          <label className="-mt-3 inline-flex items-center gap-2 text-sm text-fg-muted">
            <input
              type="checkbox"
              checked={values.clearApiKey}
              onChange={(e) => {
                set("clearApiKey", e.target.checked);
                if (e.target.checked) set("apiKey", "");
              }}
              className="size-4 accent-[var(--app-accent)]"
            />
            Remove the stored key
          </label>
        ) : null}
        {showHeadersText ? (
          <Field
            label="Extra headers"
            error={errors.headers}
            aside={
              editing && values.replaceHeaders && !urlChanged ? (
                <Button size="sm" variant="ghost" className="-my-1" onClick={() => set("replaceHeaders", false)}>
                  Keep saved headers
                </Button>
              ) : null
            }
            hint={
              editing && provider.headersSet.length > 0 && urlChanged && !values.replaceHeaders ? (
                <>
                  The base URL changed: enter the header values again (<code className="font-mono">{"{}"}</code> for
                  none). Saved values are only sent to the URL they were saved for.
                </>
              ) : (
                <>
                  A JSON object, e.g. <code className="font-mono">{'{"HTTP-Referer": "https://example.com"}'}</code>.
                  Values are stored encrypted and never shown again. Leave empty for none.
                </>
              )
            }
          >
            <Textarea
              value={values.headers}
              onChange={(e) => set("headers", e.target.value)}
              rows={3}
              spellCheck={false}
              className="font-mono text-xs"
              placeholder="{}"
            />
          </Field>
        ) : (
          <SavedHeaders names={provider?.headersSet ?? []} onReplace={() => set("replaceHeaders", true)} />
        )}
        <div className="flex flex-col gap-2">
          <Field
            label="Allowed models"
            error={errors.modelAllowlist}
            hint="This provider only serves the models listed here."
            aside={
              <Button
                size="sm"
                variant="ghost"
                icon={<Download aria-hidden className="size-4" />}
                busy={fetchModels.isPending}
                onClick={runFetch}
                className="-my-1"
              >
                Fetch models
              </Button>
            }
          >
            <ModelAllowlist value={values.modelAllowlist} onChange={(models) => set("modelAllowlist", models)} />
          </Field>
          {fetchNote ? (
            <p
              role={fetchNote.ok ? "status" : "alert"}
              className={cn("text-sm", fetchNote.ok ? "text-fg-muted" : "text-danger-text")}
            >
              {fetchNote.text}
            </p>
          ) : null}
          {available && available.length > 0 ? (
            <ModelPicker
              available={available}
              selected={values.modelAllowlist}
              onChange={(models) => set("modelAllowlist", models)}
            />
          ) : null}
        </div>
        <ImageModels
          allowed={values.modelAllowlist}
          selected={values.imageModels}
          error={errors.imageModels}
          onChange={(models) => set("imageModels", models)}
        />
        <Switch
          label="Enabled"
          description="Disabled providers keep their settings but serve no requests."
          checked={values.enabled}
          onChange={(checked) => set("enabled", checked)}
        />
      </form>
    </Dialog>
  );
}

/** Saved header names with their values masked (they never come back from the server), and a way to replace them. */
function SavedHeaders({ names, onReplace }: { names: string[]; onReplace: () => void }) {
  const labelId = useId();
  return (
    <div className="flex flex-col gap-1.5">
      <div className="flex items-baseline justify-between gap-2">
        <span id={labelId} className="text-sm font-medium text-fg">
          Extra headers
        </span>
        <Button size="sm" variant="ghost" className="-my-1" onClick={onReplace}>
          Replace headers
        </Button>
      </div>
      <ul aria-labelledby={labelId} className="flex flex-col gap-1 rounded-lg border border-line px-3 py-2">
        {names.map((name) => (
          <li key={name} className="flex items-center justify-between gap-3 text-sm">
            <span className="truncate font-mono text-xs">{name}</span>
            <span className="shrink-0 text-fg-muted">•••• (set)</span>
          </li>
        ))}
      </ul>
      <p className="text-xs text-fg-subtle">Stored encrypted and never shown. Replacing sets all headers anew.</p>
    </div>
  );
}

/** Embedding models are left out of the chat allowlist; say which, for whoever wants one for memory. */
function embeddingNote(models: string[]): string {
  if (models.length === 0) return "";
  const shown = models.slice(0, 3).join(", ") + (models.length > 3 ? ", …" : "");
  return ` Embedding models left out (${shown}): type one in to use it for memory.`;
}

/** The models a provider listed, filterable, each toggling its place in the allowlist. */
function ModelPicker({
  available,
  selected,
  onChange,
}: {
  available: string[];
  selected: string[];
  onChange: (models: string[]) => void;
}) {
  const [filter, setFilter] = useState("");
  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return needle ? available.filter((m) => m.toLowerCase().includes(needle)) : available;
  }, [available, filter]);
  const chosen = new Set(selected);
  const toggle = (model: string) =>
    onChange(chosen.has(model) ? selected.filter((m) => m !== model) : [...selected, model]);

  return (
    <div className="rounded-lg border border-line">
      <div className="flex items-center gap-2 border-b border-line px-2.5 py-1.5">
        <Search aria-hidden className="size-4 text-fg-subtle" />
        <input
          aria-label="Filter fetched models"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          placeholder={`Filter ${available.length} models`}
          className="h-7 min-w-0 flex-1 bg-transparent text-sm text-fg outline-none placeholder:text-fg-subtle"
        />
        <button
          type="button"
          onClick={() => onChange([...new Set([...selected, ...shown])])}
          className="rounded px-1.5 py-0.5 text-xs font-medium text-accent-text hover:bg-accent-soft"
        >
          Add {filter ? "shown" : "all"}
        </button>
      </div>
      <ul aria-label="Fetched models" className="max-h-48 overflow-y-auto p-1">
        {shown.map((model) => (
          <li key={model}>
            <label className="flex cursor-pointer items-center gap-2 rounded-md px-2 py-1 text-sm hover:bg-surface-2">
              <input
                type="checkbox"
                checked={chosen.has(model)}
                onChange={() => toggle(model)}
                className="size-4 accent-[var(--app-accent)]"
              />
              <span className="truncate font-mono text-xs">{model}</span>
              {chosen.has(model) ? <Check aria-hidden className="ml-auto size-3.5 text-success-text" /> : null}
            </label>
          </li>
        ))}
        {shown.length === 0 ? <li className="px-2 py-1 text-sm text-fg-subtle">No model matches.</li> : null}
      </ul>
    </div>
  );
}

/** A checkbox per allowed chat model: those ticked are given tool screenshots in their prompts. */
function ImageModels({
  allowed,
  selected,
  error,
  onChange,
}: {
  allowed: string[];
  selected: string[];
  error?: string;
  onChange: (models: string[]) => void;
}) {
  const models = allowed.filter((model) => !isEmbeddingModel(model));
  if (models.length === 0) return null;
  const toggle = (model: string, on: boolean) =>
    onChange(on ? [...new Set([...selected, model])] : selected.filter((m) => m !== model));
  return (
    <fieldset className="flex flex-col gap-1.5">
      <legend className="text-sm font-medium text-fg">Accepts images</legend>
      <p className="text-xs text-fg-subtle">Ticked models see tool screenshots; the others are told they cannot.</p>
      <ul className="flex flex-wrap gap-x-4 gap-y-1">
        {models.map((model) => (
          <li key={model}>
            <label className="inline-flex items-center gap-2 text-sm text-fg-muted">
              <input
                type="checkbox"
                checked={selected.includes(model)}
                onChange={(e) => toggle(model, e.target.checked)}
                className="size-4 accent-[var(--app-accent)]"
              />
              <span className="font-mono text-xs">{model}</span>
            </label>
          </li>
        ))}
      </ul>
      {error ? (
        <p role="alert" className="text-sm text-danger-text">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
