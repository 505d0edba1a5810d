/**
 * The item encoder travels with the index: `semrec index add` must embed new items in the same
 * space as the build. Saved as index extra files `encoder.json` (+ `encoder.f32` for TF-IDF's
 * projection matrix, + `encoder-cf.f32` for the text → collaborative map of `cf` / `text+cf`).
 */
import { FormatError, InputError } from '../../errors.js';
import type { Item } from '../../data/types.js';
import { concatHalves, predictCf } from './cf.js';
import { TfidfModel } from './tfidf.js';
import { checkMlp, type LatentRecord } from './latent.js';

/** The TF-IDF text encoder's settings (its projection is stored beside, in encoder.f32). */
export interface TextRecord {
  vocab: string[];
  idf: number[];
  dim: number;
  bigrams: boolean;
}

/**
 * What encoder.json holds: how item embeddings are made, and (rqvae indexes) the trained latent
 * encoder applied after them (`latent`, weights in encoder-mlp.f32).
 */
export type EncoderRecord = (
  | ({ kind: 'tfidf' } & TextRecord)
  | { kind: 'cf' | 'text+cf'; cfDim: number; text?: TextRecord; seed: number }
  | { kind: 'onnx'; dir: string; dim: number }
  | { kind: 'file'; dim: number }
) & { latent?: LatentRecord };

function bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function floats(b: Buffer): Float32Array {
  const out = new Float32Array(Math.floor(b.length / 4));
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  return out;
}

function textOf(rec: EncoderRecord): TextRecord | undefined {
  if (rec.kind === 'tfidf') return rec;
  if (rec.kind === 'cf' || rec.kind === 'text+cf') return rec.text;
  return undefined;
}

/** Index extra files describing the encoder (`mlp`: the latent encoder's weights, with `rec.latent`). */
export function encoderFiles(rec: EncoderRecord, tfidf?: TfidfModel, cfMap?: Float32Array, mlp?: Float32Array): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = { 'encoder.json': Buffer.from(JSON.stringify(rec)) };
  if (rec.latent) {
    if (!mlp) throw new InputError('latent encoder weights missing');
    files['encoder-mlp.f32'] = bytes(mlp);
  }
  if (textOf(rec)) {
    if (!tfidf) throw new InputError('TF-IDF encoder state missing');
    files['encoder.f32'] = bytes(tfidf.state.projection);
  }
  if (cfMap) files['encoder-cf.f32'] = bytes(cfMap);
  return files;
}

/** An index's encoder, rebuilt from its extra files. */
export interface StoredEncoder {
  record: EncoderRecord;
  tfidf?: TfidfModel;
  /** Text → collaborative map (cf kinds; textDim × cfDim). */
  cfMap?: Float32Array;
  /** The latent encoder's weights (with `record.latent`). */
  mlp?: Float32Array;
}

/** Rebuild the encoder of an index from its extra files. */
export function encoderFromFiles(json: Buffer | undefined, f32: Buffer | undefined, cfF32?: Buffer, mlpF32?: Buffer): StoredEncoder | undefined {
  const enc = baseEncoder(json, f32, cfF32);
  if (!enc?.record.latent) return enc;
  if (!mlpF32) throw new FormatError('encoder-mlp.f32', 'missing latent encoder weights');
  const mlp = floats(mlpF32);
  checkMlp(enc.record.latent.dims, mlp, 'encoder-mlp.f32');
  return { ...enc, mlp };
}

function baseEncoder(json: Buffer | undefined, f32: Buffer | undefined, cfF32?: Buffer): StoredEncoder | undefined {
  if (!json) return undefined;
  let rec: EncoderRecord;
  try {
    rec = JSON.parse(json.toString('utf8')) as EncoderRecord;
  } catch {
    throw new FormatError('encoder.json', 'not valid JSON');
  }
  const text = textOf(rec);
  if (!text) return { record: rec };
  if (!f32) throw new FormatError('encoder.f32', 'missing TF-IDF projection');
  const tfidf = TfidfModel.fromState({ vocab: text.vocab, idf: text.idf, dim: text.dim, bigrams: text.bigrams, projection: floats(f32) });
  if (rec.kind === 'tfidf') return { record: rec, tfidf };
  if (rec.kind !== 'cf' && rec.kind !== 'text+cf') return { record: rec, tfidf };
  if (!cfF32) throw new FormatError('encoder-cf.f32', 'missing text → collaborative map');
  const cfMap = floats(cfF32);
  if (cfMap.length !== text.dim * rec.cfDim) throw new FormatError('encoder-cf.f32', `has ${cfMap.length} values, expected ${text.dim} × ${rec.cfDim}`);
  return { record: rec, tfidf, cfMap };
}

/**
 * Embed new items with an index's stored encoder (TF-IDF, or cf / text+cf — new items have no
 * interactions, so their collaborative part is predicted from their text). Returns undefined when
 * the encoder cannot embed text by itself (ONNX: re-run it; precomputed files: give embeddings).
 */
export function embedWithEncoder(enc: StoredEncoder, items: readonly Item[]): { x: Float32Array; dim: number } | undefined {
  const rec = enc.record;
  if (rec.kind === 'tfidf' && enc.tfidf) return { x: enc.tfidf.transform(items.map((i) => i.text)), dim: enc.tfidf.state.dim };
  if (rec.kind !== 'cf' && rec.kind !== 'text+cf') return undefined;
  if (!enc.tfidf || !enc.cfMap) {
    throw new InputError(`this index's ${rec.kind} embeddings were built without item text, so new items (which have no interactions yet) cannot be placed: pass their embeddings`);
  }
  const n = items.length;
  const dt = enc.tfidf.state.dim;
  const t = enc.tfidf.transform(items.map((i) => i.text));
  const c = predictCf(t, dt, enc.cfMap, rec.cfDim, n, rec.seed);
  return rec.kind === 'cf' ? { x: c, dim: rec.cfDim } : { x: concatHalves(t, dt, c, rec.cfDim, n), dim: dt + rec.cfDim };
}

