/**
 * The item encoder travels with the index: `semrec index add` must embed new items in the same
 * space as the build. Saved as index extra files `encoder.json` (+ `encoder.f32` for TF-IDF's
 * projection matrix).
 */
import { FormatError, InputError } from '../errors.js';
import { TfidfModel } from './tfidf.js';
import type { EmbeddingSource } from './index.js';

/** What encoder.json holds. */
export type EncoderRecord =
  | { kind: 'tfidf'; vocab: string[]; idf: number[]; dim: number; bigrams: boolean }
  | { kind: 'onnx'; dir: string; dim: number }
  | { kind: 'file'; dim: number };

/** Index extra files describing the encoder. */
export function encoderFiles(rec: EncoderRecord, tfidf?: TfidfModel): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = { 'encoder.json': Buffer.from(JSON.stringify(rec)) };
  if (rec.kind === 'tfidf') {
    if (!tfidf) throw new InputError('TF-IDF encoder state missing');
    const p = tfidf.state.projection;
    files['encoder.f32'] = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
  }
  return files;
}

/** Rebuild the encoder of an index from its extra files. */
export function encoderFromFiles(json: Buffer | undefined, f32: Buffer | undefined): { record: EncoderRecord; tfidf?: TfidfModel } | undefined {
  if (!json) return undefined;
  let rec: EncoderRecord;
  try {
    rec = JSON.parse(json.toString('utf8')) as EncoderRecord;
  } catch {
    throw new FormatError('encoder.json', 'not valid JSON');
  }
  if (rec.kind !== 'tfidf') return { record: rec };
  if (!f32) throw new FormatError('encoder.f32', 'missing TF-IDF projection');
  const projection = new Float32Array(f32.length / 4);
  new Uint8Array(projection.buffer).set(f32);
  return { record: rec, tfidf: TfidfModel.fromState({ vocab: rec.vocab, idf: rec.idf, dim: rec.dim, bigrams: rec.bigrams, projection }) };
}

/** The source to use for new items when the user gives none: the build's own encoder. */
export function defaultSourceFor(rec: EncoderRecord): EmbeddingSource | undefined {
  return rec.kind === 'onnx' ? { kind: 'onnx', dir: rec.dir } : undefined;
}
