/**
 * Item embeddings for the semantic indexing schemes, from one of three sources: the built-in
 * TF-IDF + SVD text encoder (default, no weights), an ONNX sentence encoder directory, or a
 * precomputed `.npy` / `.f32` file whose rows follow the items file.
 */
import { InputError } from '../errors.js';
import type { Item } from '../data/types.js';
import { loadEmbeddings } from './npy.js';
import { OnnxEncoder } from './onnx-encoder.js';
import { TfidfModel } from './tfidf.js';
import type { EncoderRecord } from './state.js';

/** Where embeddings come from. */
export type EmbeddingSource =
  | { kind: 'tfidf'; dim?: number; seed?: number }
  | { kind: 'onnx'; dir: string; batchSize?: number; threads?: number }
  | { kind: 'file'; file: string };

/** Embeddings of a list of items, with a description of how they were made. */
export interface ItemEmbeddings {
  x: Float32Array;
  dim: number;
  /** e.g. `tfidf-svd:64`, `onnx:/path/to/model`, `file:emb.npy`. */
  encoder: string;
  /** What to store with the index so that new items can be embedded the same way. */
  record: EncoderRecord;
  /** The fitted TF-IDF model (kind `tfidf`). */
  tfidf?: TfidfModel;
}

/** Embed `items` (their `text` field) with `source`. */
export async function embedItems(
  items: readonly Item[],
  source: EmbeddingSource,
  onProgress?: (done: number, total: number) => void,
): Promise<ItemEmbeddings> {
  switch (source.kind) {
    case 'tfidf': {
      const { model, x } = TfidfModel.fit(
        items.map((i) => i.text),
        { dim: source.dim, seed: source.seed },
      );
      const st = model.state;
      return {
        x,
        dim: st.dim,
        encoder: `tfidf-svd:${st.dim}`,
        record: { kind: 'tfidf', vocab: st.vocab, idf: st.idf, dim: st.dim, bigrams: st.bigrams },
        tfidf: model,
      };
    }
    case 'onnx': {
      const enc = await OnnxEncoder.load(source.dir, { batchSize: source.batchSize, threads: source.threads, onProgress });
      try {
        const r = await enc.embed(items.map((i) => i.text));
        return { x: r.x, dim: r.dim, encoder: `onnx:${source.dir}`, record: { kind: 'onnx', dir: source.dir, dim: r.dim } };
      } finally {
        await enc.close();
      }
    }
    case 'file': {
      const e = await loadEmbeddings(source.file);
      if (e.n !== items.length) {
        throw new InputError(`${source.file} has ${e.n} rows but there are ${items.length} items (rows must follow the items file)`);
      }
      return { x: e.x, dim: e.dim, encoder: `file:${source.file}`, record: { kind: 'file', dim: e.dim } };
    }
  }
}

export { tfidfSvdEmbeddings, tokenize, TfidfModel } from './tfidf.js';
export type { TfidfState } from './tfidf.js';
export { encoderFiles, encoderFromFiles } from './state.js';
export type { EncoderRecord } from './state.js';
export { loadEmbeddings, encodeF32 } from './npy.js';
export { OnnxEncoder } from './onnx-encoder.js';
export type { Embeddings } from './npy.js';
export type { OnnxEncoderOptions } from './onnx-encoder.js';
export type { TfidfOptions } from './tfidf.js';
