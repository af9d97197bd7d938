/**
 * Simulated provider prompt cache. A prompt is a list of segments (each tool's JSON, then each message's JSON,
 * in order); tokens are estimated as characters / 4. The cached part of a request is the longest common prefix
 * with any recent request for the same model: every whole matching segment, plus the common leading characters
 * of the first segment that differs.
 *
 * Recent prompts live in a trie keyed by segment text, shared between requests with a common prefix, so a
 * lookup costs one Map probe per segment (V8 hashes each string once) and memory grows with what is new.
 * A bounded LRU of requests holds reference counts; evicting a request prunes the nodes nobody else uses.
 */
interface TrieNode {
  segment: string;
  parent: TrieNode | null;
  children: Map<string, TrieNode>;
  /** Characters from the start of the prompt through this segment. */
  end: number;
  refs: number;
}

export const CHARS_PER_TOKEN = 4;

export function tokensFromChars(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

export interface CacheMeasure {
  promptTokens: number;
  cachedTokens: number;
}

/** How many differing next segments are compared character by character (a prompt rarely branches more). */
const MAX_PARTIAL_CANDIDATES = 16;

export class PromptCache {
  private readonly roots = new Map<string, TrieNode>();
  /** Leaves of recent requests, oldest first (a Map keeps insertion order). */
  private readonly recent = new Map<number, { model: string; leaf: TrieNode }>();
  private nextId = 0;

  constructor(private readonly capacity = 256) {}

  /** Measures a request against recent ones; `commit` remembers it (answered prompts only warm a cache). */
  measure(model: string, segments: readonly string[]): CacheMeasure & { commit(): void } {
    const { node, matched } = this.walk(model, segments);
    let cachedChars = node.end;
    if (matched < segments.length && node.children.size) {
      cachedChars += longestPartialMatch(node, segments[matched]!);
    }
    let promptChars = node.end;
    for (let i = matched; i < segments.length; i++) promptChars += segments[i]!.length;
    return {
      promptTokens: tokensFromChars(promptChars),
      cachedTokens: Math.floor(cachedChars / CHARS_PER_TOKEN),
      commit: () => this.insert(model, segments),
    };
  }

  private walk(model: string, segments: readonly string[]): { node: TrieNode; matched: number } {
    let node = this.root(model);
    let matched = 0;
    while (matched < segments.length) {
      const child = node.children.get(segments[matched]!);
      if (!child) break;
      node = child;
      matched++;
    }
    return { node, matched };
  }

  private insert(model: string, segments: readonly string[]): void {
    let { node, matched } = this.walk(model, segments);
    for (let i = matched; i < segments.length; i++) {
      const segment = segments[i]!;
      const child: TrieNode = { segment, parent: node, children: new Map(), end: node.end + segment.length, refs: 0 };
      node.children.set(segment, child);
      node = child;
    }
    for (let n: TrieNode | null = node; n; n = n.parent) n.refs++;
    this.remember(model, node);
  }

  clear(): void {
    this.roots.clear();
    this.recent.clear();
  }

  private root(model: string): TrieNode {
    let root = this.roots.get(model);
    if (!root) {
      root = { segment: "", parent: null, children: new Map(), end: 0, refs: 0 };
      this.roots.set(model, root);
    }
    return root;
  }

  private remember(model: string, leaf: TrieNode): void {
    this.recent.set(this.nextId++, { model, leaf });
    if (this.recent.size <= this.capacity) return;
    const [oldestId, oldest] = this.recent.entries().next().value!;
    this.recent.delete(oldestId);
    for (let n: TrieNode | null = oldest.leaf; n; n = n.parent) {
      n.refs--;
      if (n.refs === 0 && n.parent) n.parent.children.delete(n.segment);
    }
    if (this.roots.get(oldest.model)?.refs === 0) this.roots.delete(oldest.model);
  }
}

function longestPartialMatch(node: TrieNode, segment: string): number {
  let best = 0;
  let checked = 0;
  for (const candidate of node.children.keys()) {
    best = Math.max(best, commonPrefixLength(candidate, segment));
    if (++checked >= MAX_PARTIAL_CANDIDATES) break;
  }
  return best;
}

function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}
