/**
 * ItemEncoder: the one owner of every way an item becomes a vector — the TF-IDF + SVD text
 * encoder, collaborative `cf` and `text+cf` (new items predicted from their text), an ONNX
 * sentence encoder, precomputed files, and RQ-VAE's learned latent encoder applied after any of
 * them. It is fitted on the catalogue at `index build`, saved with the index (encoder.json and its
 * weight files), loaded back at `index add`, where new items are `encoder.embed(items)`.
 */
import type { Item } from '../../data/types.js';
import { InputError } from '../../errors.js';
import { embedItems, type ItemEmbeddings } from './index.js';
import { mlpForward } from './latent.js';
import type { EmbeddingSource } from './source.js';
import { embedWithEncoder, encoderFiles, encoderFromFiles, type EncoderRecord, type StoredEncoder } from './state.js';

/** The index extra files an encoder is saved as (carried over to every version made from the index). */
export const ENCODER_FILES = ['encoder.json', 'encoder.f32', 'encoder-cf.f32', 'encoder-mlp.f32'];

/** An item encoder: fit, embed, save, load (see the module doc). */
export class ItemEncoder {
  private constructor(private readonly state: StoredEncoder) {}

  /** What encoder.json records. */
  get record(): EncoderRecord {
    return this.state.record;
  }

  /**
   * Fit on the catalogue `items` with `source`: the encoder and the catalogue's embeddings
   * (`name` describes them, e.g. `tfidf-svd:64`; `cfCovered`: items with their own interactions).
   */
  static async fit(items: readonly Item[], source: EmbeddingSource, onProgress?: (done: number, total: number) => void): Promise<{ encoder: ItemEncoder; x: Float32Array; dim: number; name: string; cfCovered?: number }> {
    const e: ItemEmbeddings = await embedItems(items, source, onProgress);
    return { encoder: new ItemEncoder({ record: e.record, tfidf: e.tfidf, cfMap: e.cfMap }), x: e.x, dim: e.dim, name: e.encoder, cfCovered: e.cfCovered };
  }

  /**
   * The encoder of embeddings brought as a file and read in pieces (an index build beyond memory):
   * the same record as {@link fit} writes for a file, without loading it.
   */
  static precomputed(dim: number): ItemEncoder {
    return new ItemEncoder({ record: { kind: 'file', dim } });
  }

  /** The encoder saved with an index (its extra files), or undefined when it has none. */
  static load(files: Readonly<Record<string, Uint8Array | undefined>>): ItemEncoder | undefined {
    const buf = (name: string) => (files[name] ? Buffer.from(files[name]!.buffer, files[name]!.byteOffset, files[name]!.byteLength) : undefined);
    const st = encoderFromFiles(buf('encoder.json'), buf('encoder.f32'), buf('encoder-cf.f32'), buf('encoder-mlp.f32'));
    return st ? new ItemEncoder(st) : undefined;
  }

  /** This encoder followed by a learned latent MLP (RQ-VAE): `dims` input first, latent last. */
  withLatent(dims: number[], weights: Float32Array): ItemEncoder {
    return new ItemEncoder({ ...this.state, record: { ...this.state.record, latent: { kind: 'mlp', dims } }, mlp: weights });
  }

  /** The index extra files that save this encoder. */
  files(): Record<string, Uint8Array> {
    return encoderFiles(this.state.record, this.state.tfidf, this.state.cfMap, this.state.mlp);
  }

  /**
   * Map embeddings of the base encoder's space into the index's space: through the latent
   * encoder when there is one (rqvae), unchanged otherwise. Checks the width.
   */
  project(e: { x: Float32Array; dim: number }, n: number): { x: Float32Array; dim: number } {
    const lat = this.state.record.latent;
    if (!lat || !this.state.mlp) return e;
    if (e.dim !== lat.dims[0]) throw new InputError(`new item embeddings have ${e.dim} dimensions, this index's encoder takes ${lat.dims[0]}`, { param: 'embeddings' });
    return { x: mlpForward(lat.dims, this.state.mlp, e.x, n), dim: lat.dims[lat.dims.length - 1] };
  }

  /**
   * Embed new items in the index's space. `source` overrides the base encoder (embeddings the
   * caller brings, e.g. a file); the latent encoder, if any, applies either way. An encoder that
   * cannot embed text by itself (precomputed files) needs `source`.
   */
  async embed(items: readonly Item[], source?: EmbeddingSource): Promise<{ x: Float32Array; dim: number }> {
    const rec = this.state.record;
    let e: { x: Float32Array; dim: number } | undefined;
    if (source) e = await embedItems(items, source);
    else if (rec.kind === 'onnx') e = await embedItems(items, { kind: 'onnx', dir: rec.dir });
    else e = embedWithEncoder(this.state, items);
    if (!e) throw new InputError(`the index was built from precomputed embeddings; pass the new items' embeddings`, { param: 'embeddings' });
    return this.project(e, items.length);
  }
}
