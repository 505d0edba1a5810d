/**
 * The Beauty shape the decoding benchmarks share (issue 14): 4 layers, d_model 128, 4 heads, ff
 * 512; 12,101 items on 4 levels 256/256/256/128 (vocabulary 900). The model is the project's own
 * export of a randomly initialised decoder (latency does not depend on the weights).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_WARMUP_SEARCHES, warmUp, type PrefixTrie, type StepModel, type TokenLayout, type WarmUpReport } from '../decoding/index.js';
import { Rng } from '../quantizer/core/index.js';
import { SERVE_PROCESS_WARMUP, loadWarmUpOptions } from '../src/serving/recommender.js';
import { pythonPath, trainerRoot } from '../src/training/python.js';

/** Codebook sizes per level. */
export const SIZES = [256, 256, 256, 128];
/** Items. */
export const ITEMS = 12_101;
/** Decoder layers, width and heads. */
export const LAYERS = 4;
export const D = 128;
export const HEADS = 4;

/** Export a randomly initialised decoder of the Beauty shape with the project's exporter. */
export function exportModel(dir: string, vocab: number, mask: 'tree' | 'causal'): string {
  const cfg = { vocab_size: vocab, model: { layers: LAYERS, d_model: D, heads: HEADS, d_ff: 4 * D, dropout: 0, max_positions: 128 } };
  const cfgFile = path.join(dir, 'config.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const ckpt = path.join(dir, 'random.pt');
  const env = { ...process.env, PYTHONPATH: trainerRoot() };
  if (!existsSync(ckpt)) execFileSync(pythonPath(), ['-c', `import json,torch\nfrom trainer.train import model_from_config\ntorch.manual_seed(0)\nm=model_from_config(json.load(open(${JSON.stringify(cfgFile)})))\ntorch.save(m.state_dict(), ${JSON.stringify(ckpt)})`], { env });
  const out = path.join(dir, `model-${mask}.onnx`);
  execFileSync(pythonPath(), ['-m', 'trainer', 'export', '--config', cfgFile, '--checkpoint', ckpt, '--out', out, '--mask', mask], { env, cwd: trainerRoot() });
  return out;
}

/** 12,101 distinct random tuples. */
export function randomCodes(): Uint16Array {
  const rng = new Rng(7);
  const seen = new Set<string>();
  const codes = new Uint16Array(ITEMS * SIZES.length);
  for (let i = 0; i < ITEMS; ) {
    const t = SIZES.map((k) => rng.int(k));
    const key = t.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    codes.set(t, i * SIZES.length);
    i++;
  }
  return codes;
}

/** `n` prompts of 20 random items each (81 tokens), seeded. */
export function randomPrompts(layout: TokenLayout, codes: Uint16Array, n: number): Int32Array[] {
  const rng = new Rng(3);
  return Array.from({ length: n }, () => layout.prompt(codes, Array.from({ length: 20 }, () => rng.int(ITEMS)), 20));
}

/**
 * The warm-up a serving process's first load runs (`semrec serve` / `createServer`: 32 single
 * searches, more while they still page-fault or until the process has run
 * {@link SERVE_PROCESS_WARMUP} searches, within `loadWarmUpOptions`' bounds; then a batch of 16),
 * at beam 20.
 */
export function loadWarmUp<S>(model: StepModel<S>, trie: PrefixTrie, layout: TokenLayout, prompts: readonly Int32Array[]): Promise<WarmUpReport> {
  return warmUp(model, trie, layout, prompts.slice(0, 8), { ...loadWarmUpOptions(DEFAULT_WARMUP_SEARCHES, SERVE_PROCESS_WARMUP), beamWidth: 20 });
}
