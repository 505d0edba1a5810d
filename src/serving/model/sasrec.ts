/**
 * SASRec's runtime: its ONNX graph (trainer/sasrec.py: `items` int64 [batch, max_len], histories
 * right-aligned as item numbers row + 1, 0 = padding → `logprobs` float32 [batch, items]) as an
 * {@link ItemScorer}, decoded over the index's trie by {@link ItemScoreStepModel}.
 */
import ort from 'onnxruntime-node';
import { z } from 'zod';
import { zodIssues } from '../../../quantizer/core/index.js';
import { ModelError } from '../../errors.js';
import type { ItemScorer } from './item-scores.js';
import { DEFAULT_SESSION_CONFIG } from './onnx-runner.js';

/** Histories per onnxruntime call (bounds the [batch × items] output). */
const SASREC_CHUNK = 128;

const ParamsSchema = z.object({ items: z.number().int().positive(), sasrec: z.object({ max_len: z.number().int().positive().max(100_000) }).passthrough() }).passthrough();

/** SASRec's shape from a model config's params (typed error naming what is wrong). */
export function sasrecShape(params: Record<string, unknown>, where: string): { items: number; maxLen: number } {
  const r = ParamsSchema.safeParse(params);
  if (!r.success) throw new ModelError(`${where}: not a SASRec model's params: ${zodIssues(r.error)}`);
  return { items: r.data.items, maxLen: r.data.sasrec.max_len };
}

/** SASRec's ONNX graph as an item scorer. */
export class SasrecScorer implements ItemScorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly items: number,
    readonly maxHistory: number,
  ) {}

  /** Load the graph's bytes; `label` names it in errors. */
  static async load(graph: Uint8Array, shape: { items: number; maxLen: number }, opts: { threads?: number; label?: string } = {}): Promise<SasrecScorer> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(graph, { ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}), graphOptimizationLevel: 'all', extra: { ...DEFAULT_SESSION_CONFIG } });
    } catch (err) {
      throw new ModelError(`${opts.label ?? 'model.onnx'}: onnxruntime cannot load the SASRec graph: ${(err as Error).message}`);
    }
    if (!session.inputNames.includes('items') || !session.outputNames.includes('logprobs')) {
      await session.release();
      throw new ModelError(`${opts.label ?? 'model.onnx'}: a SASRec graph has input "items" and output "logprobs", this one ${JSON.stringify(session.inputNames)} → ${JSON.stringify(session.outputNames)}`);
    }
    return new SasrecScorer(session, shape.items, shape.maxLen);
  }

  async score(histories: readonly Int32Array[]): Promise<Float32Array> {
    const n = this.items;
    const L = this.maxHistory;
    const out = new Float32Array(histories.length * n);
    for (let a = 0; a < histories.length; a += SASREC_CHUNK) {
      const part = histories.slice(a, a + SASREC_CHUNK);
      const ids = new BigInt64Array(part.length * L);
      part.forEach((h, i) => {
        const keep = h.subarray(Math.max(0, h.length - L));
        for (let j = 0; j < keep.length; j++) {
          if (!(keep[j] >= 0 && keep[j] < n)) throw new ModelError(`SASRec history row ${keep[j]} is outside its ${n} items`);
          ids[i * L + L - keep.length + j] = BigInt(keep[j] + 1);
        }
      });
      const res = await this.session.run({ items: new ort.Tensor('int64', ids, [part.length, L]) });
      const lp = res.logprobs;
      if (lp.dims.length !== 2 || lp.dims[0] !== part.length || lp.dims[1] !== n) throw new ModelError(`SASRec graph returned logprobs ${JSON.stringify(lp.dims)}, expected [${part.length}, ${n}]`);
      out.set(lp.data as Float32Array, a * n);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
