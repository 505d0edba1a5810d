/**
 * Item embeddings for the semantic indexing schemes, from one of five sources: the built-in
 * TF-IDF + SVD text encoder (default, no weights), collaborative embeddings from the training
 * sequences (`cf`), both concatenated (`text+cf`, see cf.ts), an ONNX sentence encoder directory,
 * or a precomputed `.npy` / `.f32` file whose rows follow the items file.
 */
import { InputError } from '../../errors.js';
import type { Item } from '../../data/types.js';
import { loadEmbeddings } from './npy.js';
import { OnnxEncoder } from './onnx-encoder.js';
import { TfidfModel } from './tfidf.js';
import type { EncoderRecord, TextRecord } from './state.js';
import type { EmbeddingSource } from './source.js';
import { cfEmbeddings, concatHalves, fitRidge, predictCf } from './cf.js';

export type { EmbeddingSource } from './source.js';

/** Embeddings of a list of items, with a description of how they were made. */
export interface ItemEmbeddings {
  x: Float32Array;
  dim: number;
  /** e.g. `tfidf-svd:64`, `onnx:/path/to/model`, `file:emb.npy`. */
  encoder: string;
  /** What to store with the index so that new items can be embedded the same way. */
  record: EncoderRecord;
  /** The fitted TF-IDF model (kinds `tfidf`, `cf`, `text+cf`). */
  tfidf?: TfidfModel;
  /** Text → collaborative ridge map (kinds `cf`, `text+cf`; textDim × cfDim). */
  cfMap?: Float32Array;
  /** Items whose collaborative part came from their own interactions (kinds `cf`, `text+cf`). */
  cfCovered?: number;
}

function textRecord(model: TfidfModel): TextRecord {
  const st = model.state;
  return { vocab: st.vocab, idf: st.idf, dim: st.dim, bigrams: st.bigrams };
}

/** cf / text+cf embeddings (see cf.ts); `onProgress` counts its three stages (text, collaborative, text → cf map). */
function collaborative(items: readonly Item[], source: Extract<EmbeddingSource, { kind: 'cf' | 'text+cf' }>, onProgress?: (done: number, total: number) => void): ItemEmbeddings {
  const n = items.length;
  const seed = source.seed ?? 0;
  onProgress?.(0, 3);
  let text: { model: TfidfModel; x: Float32Array } | undefined;
  try {
    const texts = items.map((i) => i.text);
    const { model } = TfidfModel.fit(texts, { dim: source.textDim, seed });
    // embed through the stored projection, exactly as `index add` will embed new items
    text = { model, x: model.transform(texts) };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    if (source.kind === 'text+cf') throw new InputError(`text+cf embeddings need item text: ${err.message} (use cf)`);
  }
  onProgress?.(1, 3);
  const cf = cfEmbeddings(
    items.map((i) => i.id),
    source.sequences,
    { dim: source.dim, window: source.window, seed },
  );
  onProgress?.(2, 3);
  const dc = cf.dim;
  let cfMap: Float32Array | undefined;
  if (cf.covered < n) {
    // items without co-occurrence: collaborative part predicted from text (or a random direction)
    const dt = text?.model.state.dim ?? 0;
    if (text) cfMap = fitRidge(text.x, dt, cf.x, dc, cf.has);
    const pred = text && cfMap ? predictCf(text.x, dt, cfMap, dc, n, seed) : predictCf(new Float32Array(n), 1, new Float32Array(dc), dc, n, seed);
    for (let i = 0; i < n; i++) if (!cf.has[i]) cf.x.set(pred.subarray(i * dc, (i + 1) * dc), i * dc);
  } else if (text) {
    cfMap = fitRidge(text.x, text.model.state.dim, cf.x, dc, cf.has);
  }
  onProgress?.(3, 3);
  const cfName = `cf-ppmi-svd:${dc}`;
  if (source.kind === 'cf') {
    return {
      x: cf.x,
      dim: dc,
      encoder: cfName,
      record: { kind: 'cf', cfDim: dc, text: text ? textRecord(text.model) : undefined, seed },
      tfidf: text?.model,
      cfMap,
      cfCovered: cf.covered,
    };
  }
  const dt = text!.model.state.dim;
  return {
    x: concatHalves(text!.x, dt, cf.x, dc, n),
    dim: dt + dc,
    encoder: `tfidf-svd:${dt}+${cfName}`,
    record: { kind: 'text+cf', cfDim: dc, text: textRecord(text!.model), seed },
    tfidf: text!.model,
    cfMap,
    cfCovered: cf.covered,
  };
}

/** Embed `items` (their `text` field) with `source`. */
export async function embedItems(
  items: readonly Item[],
  source: EmbeddingSource,
  onProgress?: (done: number, total: number) => void,
): Promise<ItemEmbeddings> {
  switch (source.kind) {
    case 'cf':
    case 'text+cf':
      return collaborative(items, source, onProgress);
    case 'tfidf': {
      onProgress?.(0, 1);
      const { model, x } = TfidfModel.fit(
        items.map((i) => i.text),
        { dim: source.dim, seed: source.seed },
      );
      onProgress?.(1, 1);
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
export { encoderFiles, encoderFromFiles, embedWithEncoder } from './state.js';
export type { EncoderRecord, TextRecord } from './state.js';
export { cfEmbeddings, ppmiMatrix, fitRidge, predictCf, concatHalves } from './cf.js';
export type { CfEmbeddings, CfOptions } from './cf.js';
export { loadEmbeddings, encodeF32 } from './npy.js';
export { OnnxEncoder } from './onnx-encoder.js';
export type { Embeddings } from './npy.js';
export type { OnnxEncoderOptions } from './onnx-encoder.js';
export type { TfidfOptions } from './tfidf.js';
