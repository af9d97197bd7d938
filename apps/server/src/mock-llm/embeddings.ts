/**
 * Deterministic embeddings by feature hashing: lower-cased words and word bigrams are hashed into a fixed
 * number of buckets with a hashed sign, then the vector is L2-normalised. Texts sharing words land close
 * together, so memory search can be tested without a model.
 */
export const DEFAULT_EMBEDDING_DIMENSIONS = 256;
export const MAX_EMBEDDING_DIMENSIONS = 4096;

const BIGRAM_WEIGHT = 0.5;

export function embedText(text: string, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const add = (feature: string, weight: number) => {
    const hash = fnv1a(feature);
    // The top bit picks the sign so collisions cancel out on average instead of piling up.
    vector[hash % dimensions]! += hash & 0x80000000 ? -weight : weight;
  };
  for (let i = 0; i < words.length; i++) {
    add(words[i]!, 1);
    if (i > 0) add(`${words[i - 1]} ${words[i]}`, BIGRAM_WEIGHT);
  }
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  return norm === 0 ? vector : vector.map((v) => v / norm);
}

/** 32-bit FNV-1a over UTF-16 code units. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** OpenAI's `encoding_format: "base64"`: little-endian float32s. */
export function embeddingToBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}
