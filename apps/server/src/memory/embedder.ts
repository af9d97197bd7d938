/**
 * Turns texts into vectors for memory. Passed in by whoever knows the provider (the conversation engine), so
 * memory works with any provider's /embeddings, the mock LLM's feature hashing, or none at all.
 */
export interface Embedder {
  /** The model id. Vectors of different models are never compared, so it is stored beside each vector. */
  model: string;
  /** Length of every vector this model returns. */
  dimension: number;
  embed(texts: string[]): Promise<number[][]>;
}

/** pgvector's limit for the `vector` type. */
export const MAX_EMBEDDING_DIMENSION = 16_000;

export class EmbeddingError extends Error {}

/** Embeds and checks the answer: a wrong count, length or a non-finite number would corrupt the index. */
export async function embedChecked(embedder: Embedder, texts: string[]): Promise<number[][]> {
  const { dimension } = embedder;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_EMBEDDING_DIMENSION) {
    throw new EmbeddingError(`embedder ${embedder.model} declares an unusable dimension ${dimension}`);
  }
  const vectors = await embedder.embed(texts);
  if (vectors.length !== texts.length) {
    throw new EmbeddingError(`embedder ${embedder.model} answered ${vectors.length} vectors for ${texts.length} texts`);
  }
  for (const vector of vectors) {
    if (vector.length !== dimension || !vector.every(Number.isFinite)) {
      throw new EmbeddingError(`embedder ${embedder.model} answered a vector that is not ${dimension} finite numbers`);
    }
  }
  return vectors;
}

/** A zero vector has no direction: cosine distance to it is undefined, so it is neither stored nor searched. */
export function isZeroVector(vector: number[]): boolean {
  return vector.every((x) => x === 0);
}

/** pgvector's text form, sent as a parameter and cast in SQL. */
export function vectorLiteral(vector: number[]): string {
  return `[${vector.join(",")}]`;
}
