/**
 * ONNX sentence encoder: a model directory with `model.onnx` + `tokenizer.json`
 * (+ `tokenizer_config.json`), as exported by Optimum / sentence-transformers. Texts are tokenised
 * with @huggingface/tokenizers, run through onnxruntime-node in batches, mean-pooled over the
 * attention mask and L2-normalised. A model whose first output is already 2-D ([batch, dim],
 * e.g. `sentence_embedding`) is used as is, then normalised.
 */
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { FormatError } from '../../errors.js';
import { normalizeRows, openRegular, readExactly } from '../../../quantizer/core/index.js';
import { readJsonObject, readOptionalJsonObject } from '../../util/io.js';

/** Options for {@link OnnxEncoder}. */
export interface OnnxEncoderOptions {
  /** Texts per model call (default 32). */
  batchSize?: number;
  /** Token cap per text (default: tokenizer_config model_max_length, at most 256). */
  maxLength?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
  /** Progress: (done, total) texts. */
  onProgress?: (done: number, total: number) => void;
}

/** A loaded ONNX sentence encoder. */
export class OnnxEncoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly padId: number,
    private readonly maxLength: number,
    private readonly opts: OnnxEncoderOptions,
  ) {}

  /** Load `dir/model.onnx` and `dir/tokenizer.json` (+ optional `tokenizer_config.json`). */
  static async load(dir: string, opts: OnnxEncoderOptions = {}): Promise<OnnxEncoder> {
    const modelFile = path.join(dir, 'model.onnx');
    // read once (a regular file), and the bytes read are the bytes onnxruntime gets
    const { fh, size } = await openRegular(modelFile, { what: 'encoder model (model.onnx)' });
    let modelBytes: Buffer;
    try {
      modelBytes = await readExactly(fh, size, modelFile);
    } finally {
      await fh.close().catch(() => undefined);
    }
    const tokJson = await readJsonObject(path.join(dir, 'tokenizer.json'), 'tokenizer.json');
    const config = await readOptionalJsonObject(path.join(dir, 'tokenizer_config.json'), 'tokenizer_config.json');
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokJson, config);
    } catch (err) {
      throw new FormatError(path.join(dir, 'tokenizer.json'), `cannot build tokenizer: ${(err as Error).message}`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelBytes, opts.threads ? { intraOpNumThreads: opts.threads } : {});
    } catch (err) {
      throw new FormatError(modelFile, `onnxruntime cannot load the model: ${(err as Error).message}`);
    }
    if (!session.inputNames.includes('input_ids')) throw new FormatError(modelFile, `model has no input_ids input (inputs: ${session.inputNames.join(', ')})`);
    const padToken = typeof config.pad_token === 'string' ? config.pad_token : '[PAD]';
    const padId = tokenizer.token_to_id(padToken) ?? 0;
    const cfgMax = typeof config.model_max_length === 'number' ? config.model_max_length : 256;
    return new OnnxEncoder(session, tokenizer, padId, opts.maxLength ?? Math.min(256, cfgMax), opts);
  }

  /** Embed texts: n × dim row-major, rows L2-normalised. */
  async embed(texts: readonly string[]): Promise<{ x: Float32Array; dim: number }> {
    const bs = this.opts.batchSize ?? 32;
    let out: Float32Array | undefined;
    let dim = 0;
    for (let s = 0; s < texts.length; s += bs) {
      const batch = texts.slice(s, s + bs).map((t) => {
        const e = this.tokenizer.encode(t) as { ids: number[]; attention_mask: number[] };
        return { ids: e.ids.slice(0, this.maxLength), mask: e.attention_mask.slice(0, this.maxLength) };
      });
      const B = batch.length;
      const T = Math.max(1, ...batch.map((b) => b.ids.length));
      const ids = new BigInt64Array(B * T).fill(BigInt(this.padId));
      const mask = new BigInt64Array(B * T);
      batch.forEach((b, i) => {
        b.ids.forEach((v, t) => (ids[i * T + t] = BigInt(v)));
        b.mask.forEach((v, t) => (mask[i * T + t] = BigInt(v)));
      });
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', ids, [B, T]),
      };
      if (this.session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', mask, [B, T]);
      if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]);
      const result = await this.session.run(feeds);
      const y = result[this.session.outputNames[0]];
      const data = y.data as Float32Array;
      if (y.dims.length === 2) {
        dim = Number(y.dims[1]);
        out ??= new Float32Array(texts.length * dim);
        out.set(data, s * dim);
      } else if (y.dims.length === 3) {
        dim = Number(y.dims[2]);
        out ??= new Float32Array(texts.length * dim);
        for (let i = 0; i < B; i++) {
          let cnt = 0;
          const o = (s + i) * dim;
          for (let t = 0; t < T; t++) {
            if (mask[i * T + t] === 0n) continue;
            cnt++;
            const h = (i * T + t) * dim;
            for (let j = 0; j < dim; j++) out[o + j] += data[h + j];
          }
          if (cnt) for (let j = 0; j < dim; j++) out[o + j] /= cnt;
        }
      } else {
        throw new FormatError('model.onnx', `unexpected output shape [${y.dims.join(', ')}]; expected [batch, seq, dim] or [batch, dim]`);
      }
      this.opts.onProgress?.(Math.min(texts.length, s + B), texts.length);
    }
    if (!out) return { x: new Float32Array(0), dim: 0 };
    return { x: normalizeRows(out, texts.length, dim), dim };
  }

  /** Release the onnxruntime session. */
  async close(): Promise<void> {
    await this.session.release();
  }
}
