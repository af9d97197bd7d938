import {
  ArrowRight,
  Bot,
  FileCode2,
  FileText,
  Folder,
  GitBranch,
  Lock,
  type LucideIcon,
  PanelRight,
  Plug,
  Sparkles,
  Wrench,
} from "lucide-react";
import { Link } from "react-router";
import { useSession } from "../auth/session";
import { useTitle } from "../lib/useTitle";
import { Logo } from "../shell/Logo";
import { buttonClass } from "../ui";

const FEATURES: Array<{ icon: LucideIcon; title: string; body: string }> = [
  {
    icon: Folder,
    title: "Agents are folders of files",
    body: "Instructions, personality, prompt templates, skills and tools live in plain files you can read, diff and edit. Change AGENT.md and the next reply follows it.",
  },
  {
    icon: GitBranch,
    title: "History you can undo",
    body: "Every agent is a git repository. Each change is a commit, so you always know what changed and can roll it back.",
  },
  {
    icon: Wrench,
    title: "Tools, shown as they run",
    body: "Memory, skills, web search and fetch. Each call appears in the conversation with its arguments and result.",
  },
  {
    icon: Plug,
    title: "Bring any model",
    body: "Any OpenAI-compatible endpoint: OpenRouter, LM Studio, vLLM. A built-in mock model lets you try everything without a key.",
  },
  {
    icon: PanelRight,
    title: "See exactly what the model saw",
    body: "Open any reply to inspect its run: provider and model, the prompt sections, tool calls, tokens, timings and cache hits.",
  },
  {
    icon: Lock,
    title: "Yours, on your machine",
    body: "Self-hosted with an embedded database. API keys are encrypted at rest and never sent back to the browser.",
  },
];

const STEPS = [
  { title: "Connect a model", body: "Add a provider in System settings, or start with the built-in mock." },
  { title: "Pick an agent", body: "Use the bundled assistant, or create your own from a profile and name it." },
  { title: "Chat", body: "Replies stream as they are written, with tool calls you can open and inspect." },
];

/** The product page people see before signing in: what Cybros is and one clear way in. */
export function LandingPage() {
  useTitle(null);
  const session = useSession();
  const signedIn = Boolean(session.data?.user);
  const cta = signedIn ? { to: "/conversations", label: "Open Cybros" } : { to: "/login", label: "Sign in" };

  return (
    <div className="min-h-full bg-app">
      <header className="sticky top-0 z-10 border-b border-line/60 bg-app/80 backdrop-blur">
        <div className="mx-auto flex h-16 max-w-6xl items-center justify-between px-5">
          <Link to="/" aria-label="Cybros home" className="rounded-lg">
            <Logo />
          </Link>
          <nav aria-label="Site" className="flex items-center gap-1">
            <div className="hidden items-center gap-1 sm:flex">
              <a href="#features" className={buttonClass("ghost", "sm")}>
                Features
              </a>
              <a href="#how" className={buttonClass("ghost", "sm")}>
                How it works
              </a>
            </div>
            <Link to={cta.to} className={buttonClass(signedIn ? "primary" : "secondary", "sm", "ml-2")}>
              {cta.label}
            </Link>
          </nav>
        </div>
      </header>

      <main>
        <section aria-labelledby="hero-title" className="relative overflow-hidden">
          <div
            aria-hidden
            className="pointer-events-none absolute inset-x-0 -top-40 mx-auto h-[520px] max-w-4xl rounded-full bg-accent/15 blur-3xl"
          />
          <div className="relative mx-auto grid max-w-6xl items-center gap-12 px-5 pt-16 pb-20 md:pt-24 lg:grid-cols-[1.05fr_1fr]">
            <div>
              <p className="inline-flex items-center gap-1.5 rounded-full border border-line bg-surface px-3 py-1 text-xs font-medium text-fg-muted shadow-xs">
                <Sparkles aria-hidden className="size-3.5 text-accent-text" />
                Self-hosted · open · programmable
              </p>
              <h1
                id="hero-title"
                className="mt-5 text-4xl leading-[1.1] font-semibold tracking-tight text-balance text-fg sm:text-5xl"
              >
                AI agents you own, down to the last file.
              </h1>
              <p className="mt-5 max-w-xl text-lg leading-relaxed text-pretty text-fg-muted">
                Cybros is a platform for programmable agents. Chat with them like you would with ChatGPT: answers stream
                in and tools run before your eyes. Behind every agent is a folder of plain files you control.
              </p>
              <div className="mt-8 flex flex-wrap items-center gap-3">
                <Link to={cta.to} className={buttonClass("primary", "lg")}>
                  {signedIn ? "Open Cybros" : "Get started"}
                  <ArrowRight aria-hidden className="size-4" />
                </Link>
                <a href="#how" className={buttonClass("secondary", "lg")}>
                  How it works
                </a>
              </div>
            </div>
            <ProductPreview />
          </div>
        </section>

        <section
          id="features"
          aria-labelledby="features-title"
          className="scroll-mt-16 border-t border-line bg-sidebar"
        >
          <div className="mx-auto max-w-6xl px-5 py-20">
            <h2 id="features-title" className="text-2xl font-semibold tracking-tight text-fg sm:text-3xl">
              Everything an agent is, out in the open
            </h2>
            <p className="mt-3 max-w-2xl text-fg-muted">
              No hidden system prompts, no black-box memory. If the agent does something, you can see why.
            </p>
            <ul className="mt-10 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
              {FEATURES.map(({ icon: Icon, title, body }) => (
                <li key={title} className="rounded-2xl border border-line bg-surface p-5 shadow-xs">
                  <span className="flex size-9 items-center justify-center rounded-lg bg-accent-soft text-accent-text">
                    <Icon aria-hidden className="size-[18px]" />
                  </span>
                  <h3 className="mt-4 font-semibold text-fg">{title}</h3>
                  <p className="mt-1.5 text-sm leading-relaxed text-fg-muted">{body}</p>
                </li>
              ))}
            </ul>
          </div>
        </section>

        <section id="how" aria-labelledby="how-title" className="scroll-mt-16 border-t border-line">
          <div className="mx-auto max-w-6xl px-5 py-20">
            <h2 id="how-title" className="text-2xl font-semibold tracking-tight text-fg sm:text-3xl">
              Up and running in a minute
            </h2>
            <ol className="mt-10 grid gap-6 md:grid-cols-3">
              {STEPS.map((step, index) => (
                <li key={step.title} className="flex gap-4">
                  <span className="flex size-8 shrink-0 items-center justify-center rounded-full bg-accent text-sm font-semibold text-accent-fg">
                    {index + 1}
                  </span>
                  <div>
                    <h3 className="font-semibold text-fg">{step.title}</h3>
                    <p className="mt-1 text-sm leading-relaxed text-fg-muted">{step.body}</p>
                  </div>
                </li>
              ))}
            </ol>
            <div className="mt-12 flex flex-col items-start justify-between gap-4 rounded-2xl border border-line bg-sidebar p-6 sm:flex-row sm:items-center">
              <div>
                <p className="font-semibold text-fg">Ready when you are.</p>
                <p className="mt-1 text-sm text-fg-muted">Your data stays in this installation.</p>
              </div>
              <Link to={cta.to} className={buttonClass("primary", "lg")}>
                {signedIn ? "Open Cybros" : "Sign in"}
                <ArrowRight aria-hidden className="size-4" />
              </Link>
            </div>
          </div>
        </section>
      </main>

      <footer className="border-t border-line">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-5 py-6 text-sm text-fg-subtle">
          <Logo withName={false} className="[&_svg]:size-5" />
          <p>Cybros runs on your own hardware. Nothing leaves it unless you connect a provider.</p>
        </div>
      </footer>
    </div>
  );
}

/** A drawing of the product (not a screenshot): an agent's files beside a conversation with a tool call. */
function ProductPreview() {
  return (
    <div aria-hidden className="relative">
      <div className="overflow-hidden rounded-2xl border border-line bg-surface shadow-2xl shadow-black/10">
        <div className="flex h-9 items-center gap-1.5 border-b border-line bg-sidebar px-3">
          <span className="size-2.5 rounded-full bg-line-strong" />
          <span className="size-2.5 rounded-full bg-line-strong" />
          <span className="size-2.5 rounded-full bg-line-strong" />
          <span className="ml-3 text-xs text-fg-subtle">Trip planning · Default Assistant</span>
        </div>
        <div className="grid grid-cols-[150px_1fr] max-sm:grid-cols-1">
          <div className="border-r border-line bg-sidebar p-3 text-xs max-sm:hidden">
            <p className="mb-2 font-medium text-fg-subtle">default-assistant</p>
            {[
              { icon: FileCode2, name: "agent.yml" },
              { icon: FileText, name: "AGENT.md" },
              { icon: FileText, name: "SOUL.md" },
              { icon: FileText, name: "USER.md" },
              { icon: Folder, name: "prompts" },
              { icon: Folder, name: "skills" },
            ].map(({ icon: Icon, name }, i) => (
              <p
                key={name}
                className={`flex items-center gap-1.5 rounded-md px-1.5 py-1 ${i === 1 ? "bg-surface-3 text-fg" : "text-fg-muted"}`}
              >
                <Icon className="size-3.5" />
                {name}
              </p>
            ))}
          </div>
          <div className="flex flex-col gap-3 p-4 text-sm">
            <div className="ml-auto max-w-[85%] rounded-2xl bg-surface-2 px-3.5 py-2 text-fg">
              Remember that I prefer window seats.
            </div>
            <div className="flex gap-2.5">
              <span className="flex size-6 shrink-0 items-center justify-center rounded-full bg-accent-soft text-accent-text">
                <Bot className="size-3.5" />
              </span>
              <div className="min-w-0 flex-1 space-y-2">
                <div className="rounded-lg border border-line bg-sidebar px-2.5 py-1.5 font-mono text-[11px] text-fg-muted">
                  <span className="text-success-text">✓</span> memory_store{" "}
                  <span className="text-fg-subtle">{'{"text": "Prefers window seats"}'}</span>
                </div>
                <p className="text-fg">
                  Noted — I’ll book window seats by default from now on. Want me to look at flights for Friday?
                </p>
                <p className="text-xs text-fg-subtle">mock-model · 412 tokens · 96% cached</p>
              </div>
            </div>
            <div className="mt-1 flex items-center gap-2 rounded-xl border border-line-strong px-3 py-2 text-fg-subtle">
              <span className="flex-1">Message</span>
              <span className="flex size-6 items-center justify-center rounded-lg bg-accent text-accent-fg">
                <ArrowRight className="size-3.5 -rotate-90" />
              </span>
            </div>
          </div>
        </div>
      </div>
    </div>
  );
}
