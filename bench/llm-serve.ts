/**
 * bench/llm-serve — one request of a generator at Qwen3-0.6B shape (28 layers, hidden 1024, 16
 * heads over 8 key/value heads of 128, SwiGLU 3072, tied head; vocabulary 151,669 text tokens + 896
 * ID tokens = 152,565 rows; random fp32 weights — latency does not depend on their values) on the
 * Beauty catalogue shape (12,101 items on 4 levels 256/256/256/128), beam 20, k 10, 81-token prompts
 * (the prompt of 20 history items as ID tokens after one text token).
 *
 * From the same weights (trainer/bench_llm.py exports them):
 * - `fast`: semrec's tree-attention graph with the head restricted to the 896 ID tokens (the
 *   export `semrec train --base` writes);
 * - `treeFull`: the same graph with the whole 152,565-row head — the step-cost reference of the
 *   restricted head;
 * - `perBeam`: the Optimum-style graph (2-D mask, `present.*`, whole head) on semrec's per-beam path
 *   (every beam carries and copies its own cache), as an exported Hugging Face model is served;
 * - `peer`: PyTorch eager with a KV cache and a Python dict trie masking each beam's logits (the
 *   method of ../shared/bench/torch_beam.py), whole head.
 *
 * Single requests, one after the other (p50 / p99 ms), with each request's model calls timed
 * inside it (`calls`: graph runs and their inputs; `stepCalls`: the calls after the prefill),
 * and the process RSS after each. Prints one JSON line with the ratios the issue sets goals on.
 *
 *   npx tsx bench/llm-serve.ts [--layers 28] [--requests 6] [--threads 2]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NUM_SPECIAL, PrefixTrie, RemappedStepModel, SPECIAL_TOKENS, TokenLayout, beamSearch, type StepModel } from '../decoding/index.js';
import { OnnxStepModel } from '../src/serving/model/onnx-runner.js';
import { pythonPath, trainerRoot } from '../src/training/python.js';
import { ITEMS, SIZES, randomCodes, randomPrompts } from './beauty-shape.js';
import { arg, pct } from './fixture.js';

const layers = Number(arg('layers', '28'));
const requests = Number(arg('requests', '6'));
const threads = Number(arg('threads', String(Math.min(2, os.availableParallelism()))));

const TEXT_TOKENS = 151_669; // Qwen3's tokenizer: the ID tokens start here
const layout = new TokenLayout(SIZES);
const ID_COUNT = layout.vocabSize - NUM_SPECIAL;
const VOCAB = Math.max(151_936, TEXT_TOKENS + ID_COUNT);
const hf = {
  model_type: 'qwen3',
  vocab_size: VOCAB,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: layers,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  rms_norm_eps: 1e-6,
  rope_theta: 1_000_000,
  max_position_embeddings: 40_960,
  tie_word_embeddings: true,
};
const dims = { layers, heads: 8, headDim: 128 };

/** A step model that adds each call's wall time to `acc` (prefill and steps apart). */
function timed<S>(model: StepModel<S>, acc: { prefill: number; step: number }): StepModel<S> {
  const t = async <T>(key: 'prefill' | 'step', f: () => Promise<T>) => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      acc[key] += performance.now() - t0;
    }
  };
  return { vocabSize: model.vocabSize, prefill: (p) => t('prefill', () => model.prefill(p)), step: (s, x) => t('step', () => model.step(s, x)), reorder: (s, i) => model.reorder(s, i), release: (s) => model.release?.(s) };
}

async function semrec(file: string, head: 'ids' | 'full', trie: PrefixTrie, prompts: Int32Array[]) {
  const inner = await OnnxStepModel.load(file, { ...dims, vocabSize: head === 'ids' ? ID_COUNT : VOCAB }, { threads });
  const acc = { prefill: 0, step: 0 };
  // canonical token t ≥ 4 is model token TEXT_TOKENS + t − 4; its output column is t − 4 (restricted head) or the same id (whole head)
  const out = new Int32Array(layout.vocabSize).fill(-1);
  const inp = new Int32Array(layout.vocabSize).fill(-1);
  for (let t = NUM_SPECIAL; t < layout.vocabSize; t++) {
    inp[t] = TEXT_TOKENS + t - NUM_SPECIAL;
    out[t] = head === 'ids' ? t - NUM_SPECIAL : inp[t];
  }
  const model = new RemappedStepModel(timed(inner as StepModel<unknown>, acc), out, inp);
  const one = (p: Int32Array) => beamSearch(model, trie, layout, [{ prompt: p }], { beamWidth: 20, k: 10 });
  await one(prompts[0]); // warm-up
  const wall: number[] = [];
  const calls: number[] = [];
  const steps: number[] = [];
  let valid = true;
  for (const p of prompts) {
    acc.prefill = acc.step = 0;
    const t0 = performance.now();
    const hits = await one(p);
    wall.push(performance.now() - t0);
    calls.push(acc.prefill + acc.step);
    steps.push(acc.step);
    valid &&= hits[0].length === 10;
  }
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  await inner.close();
  const r = (xs: number[]) => ({ p50: +pct(xs, 50).toFixed(1), p99: +pct(xs, 99).toFixed(1) });
  return { tree: inner.tree, wall: r(wall), calls: r(calls), stepCalls: r(steps), rssMb: Math.round(rssMb), tenResults: valid };
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'semrec-llm-bench-'));
  try {
    const env = { ...process.env, PYTHONPATH: trainerRoot() };
    const cfgFile = path.join(work, 'bench.json');
    writeFileSync(cfgFile, JSON.stringify({ hf, id_rows: [TEXT_TOKENS, ID_COUNT], seed: 0, threads }));
    const t0 = Date.now();
    const exp = JSON.parse(execFileSync(pythonPath(), ['-m', 'trainer', 'bench-export', '--config', cfgFile, '--out', work], { env, cwd: trainerRoot(), maxBuffer: 1 << 24 }).toString().trim().split('\n').pop()!);
    const exportS = (Date.now() - t0) / 1000;
    process.stderr.write(`exported 3 graphs of ${(exp.params / 1e6).toFixed(0)}M parameters in ${exportS.toFixed(0)} s\n`);
    const codes = randomCodes();
    const trie = PrefixTrie.build(codes, ITEMS, SIZES);
    // the prompt: one text token (Qwen's <|endoftext|>, id 151643) then 20 items' ID tokens
    const prompts = randomPrompts(layout, codes, requests).map((p) => Int32Array.from(p, (t) => (t === SPECIAL_TOKENS.BOS ? 151_643 : TEXT_TOKENS + t - NUM_SPECIAL)));
    const fast = await semrec(path.join(work, 'tree-ids', 'model.onnx'), 'ids', trie, prompts);
    process.stderr.write(`fast path: ${JSON.stringify(fast)}\n`);
    const treeFull = await semrec(path.join(work, 'tree-full', 'model.onnx'), 'full', trie, prompts);
    process.stderr.write(`tree, whole head: ${JSON.stringify(treeFull)}\n`);
    const perBeam = await semrec(path.join(work, 'causal-full', 'model.onnx'), 'full', trie, prompts);
    process.stderr.write(`per beam: ${JSON.stringify(perBeam)}\n`);
    const peerIn = path.join(work, 'peer.json');
    const itemTokens = Array.from({ length: ITEMS }, (_, i) => SIZES.map((_, l) => TEXT_TOKENS + layout.token(l, codes[i * SIZES.length + l]) - NUM_SPECIAL));
    writeFileSync(peerIn, JSON.stringify({ prompts: prompts.map((p) => Array.from(p)), codes: itemTokens, beams: 20, warmup: 1 }));
    const peerOut = execFileSync(pythonPath(), ['-m', 'trainer', 'bench-peer', '--config', cfgFile, '--input', peerIn], { env: { ...env, OMP_NUM_THREADS: String(threads) }, cwd: trainerRoot(), maxBuffer: 1 << 24 }).toString();
    const peer = JSON.parse(peerOut.trim().split('\n').pop()!) as { p50_ms: number; p99_ms: number };
    const ratio = (a: number, b: number) => +(a / b).toFixed(3);
    console.log(
      JSON.stringify({
        bench: 'llm-serve',
        shape: { layers, hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, vocab: VOCAB, idTokens: ID_COUNT, items: ITEMS, promptTokens: prompts[0].length, beam: 20, params: exp.params },
        threads,
        requests,
        exportSeconds: exportS,
        fast,
        treeFull,
        perBeam,
        peer: { p50: +peer.p50_ms.toFixed(1), p99: +peer.p99_ms.toFixed(1) },
        ratios: {
          fastOverItsModelCalls: ratio(fast.wall.p50, fast.calls.p50),
          fastOverPerBeam: ratio(fast.wall.p50, perBeam.wall.p50),
          fastOverPeer: ratio(fast.wall.p50, peer.p50_ms),
          restrictedStepOverFullStep: ratio(fast.stepCalls.p50, treeFull.stepCalls.p50),
        },
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
