/**
 * The generator: PyTorch trainer → ONNX export → onnxruntime-node runner. Uses Debian's
 * python3-torch (installed by `npm run setup`); models are tiny so the suite stays fast.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import type { Dataset } from '../../src/data/store.js';
import { addItemsJob, buildIndexJob } from '../../src/indexing/jobs.js';
import { trainModel, trainNodeRanks } from '../../src/training/train.js';
import { Recommender } from '../../src/serving/recommender.js';
import { DEFAULT_SESSION_CONFIG, OnnxStepModel } from '../../src/serving/model/onnx-runner.js';
import { loadTokenizer, vocabulary } from '../../src/serving/model/tokenizer.js';
import { TokenLayout, beamSearch } from '../../decoding/index.js';
import { loadIndex } from '../../quantizer/index.js';
import { candidateTrie } from '../../src/indexing/jobs.js';
import { ModelError } from '../../src/errors.js';
import { pythonPath, runTrainer, trainerRoot } from '../../src/training/python.js';
import { tiny, trainTinyModel } from './tiny-model.js';

let root: string;
let ds: Dataset;
let dataDir: string;
let indexDir: string;
let modelDir: string;

beforeAll(async () => {
  ({ root, ds, dataDir, indexDir, modelDir } = await trainTinyModel());
}, 180_000);

function torchLogits(ids: number[][], mask: number[][], pos: number[][]): Float32Array {
  const inp = path.join(root, 'in.json');
  const out = path.join(root, 'out.f32');
  writeFileSync(inp, JSON.stringify({ input_ids: ids, attention_mask: mask, position_ids: pos }));
  const cfg = path.join(root, 'trainer.json');
  writeFileSync(cfg, readFileSync(path.join(modelDir, 'trainer.json')));
  execFileSync(pythonPath(), ['-m', 'trainer', 'logits', '--config', cfg, '--checkpoint', path.join(modelDir, 'checkpoint.pt'), '--input', inp, '--out', out], {
    cwd: trainerRoot(),
    env: { ...process.env, PYTHONPATH: trainerRoot() },
  });
  const b = readFileSync(out);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** The fixture's ONNX model (or another export of its checkpoint); `tree: false` forces the per-row KV cache path. */
async function runner(opts: { tree?: boolean; treeExtraSlots?: number; treePoolBytes?: number; threads?: number; sessionConfig?: Record<string, string> } = {}, file = path.join(modelDir, 'model.onnx')) {
  const cfg = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
  return {
    cfg,
    model: await OnnxStepModel.load(file, { vocabSize: cfg.tokenLayout.vocabSize, layers: cfg.params.layers, heads: cfg.params.heads, headDim: cfg.params.headDim }, opts),
  };
}

/** Export the fixture's checkpoint again with trainer flags (e.g. `--kv present`: the whole cache as output, as exports before new_key_values did). */
function reexport(name: string, flags: string[]): string {
  const out = path.join(root, name);
  execFileSync(pythonPath(), ['-m', 'trainer', 'export', '--config', path.join(modelDir, 'trainer.json'), '--checkpoint', path.join(modelDir, 'checkpoint.pt'), '--out', out, ...flags], { cwd: trainerRoot(), env: { ...process.env, PYTHONPATH: trainerRoot() } });
  return out;
}

describe('generator: trainer, ONNX export, runner', () => {
  it('writes a complete model directory', () => {
    const cfg = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ format: 'semrec-model', architecture: 'decoder', params: { layers: 2, dModel: 32, heads: 2, headDim: 16 } });
    expect(cfg.params.validLoss).toBeLessThan(Math.log(cfg.tokenLayout.vocabSize)); // learned something
  });

  it('onnxruntime logits equal PyTorch logits (max abs diff ≤ 1e-4), with left padding', async () => {
    const { cfg, model } = await runner();
    const V = cfg.tokenLayout.vocabSize;
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    const prompts = [new Int32Array([1, ...layout.tokens([3, 4]), ...layout.tokens([7, 0]), ...layout.tokens([1, 2])]), new Int32Array([1, ...layout.tokens([5, 5])])];
    const { logits, seq } = await model.forward(prompts);
    const ids = prompts.map((p) => [...Array(seq - p.length).fill(0), ...p]);
    const mask = prompts.map((p) => [...Array(seq - p.length).fill(0), ...Array(p.length).fill(1)]);
    const pos = prompts.map((p) => [...Array(seq - p.length).fill(0), ...Array.from({ length: p.length }, (_, i) => i)]);
    const ref = torchLogits(ids, mask, pos);
    let maxDiff = 0;
    prompts.forEach((p, r) => {
      for (let t = seq - p.length; t < seq; t++) for (let v = 0; v < V; v++) maxDiff = Math.max(maxDiff, Math.abs(ref[(r * seq + t) * V + v] - logits[(r * seq + t) * V + v]));
    });
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    // semrec's export takes logits_from: a prefill computes only the last position's logits, the same values
    expect(model.hasLogitsFrom).toBe(true);
    const last = await model.forward(prompts, true);
    expect([last.seq, last.logits.length]).toEqual([1, prompts.length * V]);
    prompts.forEach((_, r) => {
      for (let v = 0; v < V; v++) expect(Math.abs(last.logits[r * V + v] - logits[(r * seq + seq - 1) * V + v])).toBeLessThanOrEqual(1e-5);
    });
    await model.close();
  });

  it('prefill then steps with the KV cache (and a reorder) equals a full forward pass', async () => {
    const { cfg, model } = await runner({ tree: false });
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    const full = new Int32Array([1, ...layout.tokens([3, 4]), ...layout.tokens([7, 0]), ...layout.tokens([1, 2])]);
    const other = new Int32Array([1, ...layout.tokens([5, 5])]);
    const pre = await model.prefill([other, full.subarray(0, 5)]);
    const re = model.reorder(pre.state, new Int32Array([1, 1, 0])); // duplicate row 1, move row 0
    const s1 = await model.step(re, new Int32Array([full[5], full[5], layout.token(0, 1)]));
    const s2 = await model.step(s1.state, new Int32Array([full[6], full[6], layout.token(1, 1)]));
    const ref = await model.prefill([full]);
    const V = layout.vocabSize;
    for (const row of [0, 1]) {
      let d = 0;
      for (let v = 0; v < V; v++) d = Math.max(d, Math.abs(ref.logprobs[v] - s2.logprobs[row * V + v]));
      expect(d).toBeLessThanOrEqual(1e-4);
    }
    const ref2 = await model.prefill([new Int32Array([...other, layout.token(0, 1), layout.token(1, 1)])]);
    let d2 = 0;
    for (let v = 0; v < V; v++) d2 = Math.max(d2, Math.abs(ref2.logprobs[v] - s2.logprobs[2 * V + v]));
    expect(d2).toBeLessThanOrEqual(1e-4);
    await model.close();
  });

  it('an in-place reorder (rows keep their prompt) moves only generated positions and stays exact', async () => {
    const { cfg, model } = await runner({ tree: false });
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    const A = new Int32Array([1, ...layout.tokens([3, 4]), ...layout.tokens([7, 0])]);
    const B = new Int32Array([1, ...layout.tokens([5, 5])]);
    const pre = await model.prefill([A, B]);
    const wide = model.reorder(pre.state, new Int32Array([0, 0, 0, 1, 1, 1])); // expansion: a new state
    expect(wide).not.toBe(pre.state);
    const t1 = [0, 1, 2, 3, 4, 5].map((c) => layout.token(0, c));
    const s1 = await model.step(wide, new Int32Array(t1));
    const perm = new Int32Array([2, 0, 1, 5, 3, 3]); // within each prompt's rows, one row duplicated
    const re = model.reorder(s1.state, perm);
    expect(re).toBe(s1.state); // in place
    const t2 = [0, 1, 2, 3, 4, 5].map((c) => layout.token(1, c));
    const s2 = await model.step(re, new Int32Array(t2));
    const V = layout.vocabSize;
    for (let r = 0; r < 6; r++) {
      const prompt = r < 3 ? A : B;
      const ref = await model.prefill([new Int32Array([...prompt, t1[perm[r]], t2[r]])]);
      let d = 0;
      for (let v = 0; v < V; v++) d = Math.max(d, Math.abs(ref.logprobs[v] - s2.logprobs[r * V + v]));
      expect(d, `row ${r}`).toBeLessThanOrEqual(1e-4);
    }
    // rows that change prompt take the general path
    expect(model.reorder(s2.state, new Int32Array([3, 0, 1, 2, 4, 5]))).not.toBe(s2.state);
    await model.close();
  });

  it('tree attention: beams of a request in one sequence over one cache give the per-beam log-probabilities', async () => {
    const { cfg, model } = await runner();
    expect(model.mask3d && model.tree && model.newKv).toBe(true); // semrec's export: a 3-D mask, only the new keys/values back
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    const V = layout.vocabSize;
    const A = new Int32Array([1, ...layout.tokens([3, 4]), ...layout.tokens([7, 0])]);
    const B = new Int32Array([1, ...layout.tokens([5, 5])]); // shorter: left-padded in the prefill
    const pre = await model.prefill([A, B]);
    const rows = [0, 0, 0, 1, 1];
    const t1 = [0, 1, 2, 3, 4].map((c) => layout.token(0, c));
    const s1 = await model.step(model.reorder(pre.state, new Int32Array(rows)), new Int32Array(t1));
    // beam 1 of A dies, beam 0 of A is duplicated, B keeps one beam and gains one
    const perm = [0, 0, 2, 4, 3];
    const t2 = [0, 1, 2, 3, 4].map((c) => layout.token(1, c));
    const s2 = await model.step(model.reorder(s1.state, new Int32Array(perm)), new Int32Array(t2));
    for (let r = 0; r < perm.length; r++) {
      const prompt = rows[perm[r]] === 0 ? A : B;
      const ref = await model.prefill([new Int32Array([...prompt, t1[perm[r]], t2[r]])]);
      let d = 0;
      for (let v = 0; v < V; v++) d = Math.max(d, Math.abs(ref.logprobs[v] - s2.logprobs[r * V + v]));
      expect(d, `row ${r}`).toBeLessThanOrEqual(1e-4);
    }
    await model.close();
  });

  it('tree attention and the per-beam KV cache decode the same items with the same scores (batched requests)', async () => {
    const { cfg, model: tree } = await runner();
    const { model: flat } = await runner({ tree: false });
    // the same weights exported with the whole cache as output (graphs before new_key_values), and
    // a cache that starts with one spare slot, so that it grows at every step
    const { model: presentKv } = await runner({}, reexport('present-kv.onnx', ['--kv', 'present']));
    const { model: growing } = await runner({ treeExtraSlots: 1 });
    expect([presentKv.tree, presentKv.newKv, growing.newKv]).toEqual([true, false, true]);
    const index = await loadIndex(indexDir);
    const trie = candidateTrie(index);
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    const reqs = ds.test.slice(0, 12).map((e, i) => ({
      prompt: layout.prompt(index.codes, e.history.map((id) => index.rowOf(id)!).slice(-(3 + (i % 5))), 20), // different prompt lengths
      exclude: i % 3 === 0 ? e.history.map((id) => index.rowOf(id)!) : undefined,
    }));
    for (const beamWidth of [4, 10]) {
      const a = await beamSearch(tree, trie, layout, reqs, { beamWidth });
      for (const other of [flat, presentKv, growing]) {
        const b = await beamSearch(other, trie, layout, reqs, { beamWidth });
        a.forEach((hits, r) => {
          expect(hits.map((h) => h.row), `request ${r}`).toEqual(b[r].map((h) => h.row));
          hits.forEach((h, j) => expect(Math.abs(h.score - b[r][j].score)).toBeLessThanOrEqual(1e-4));
        });
      }
      // one request at a time gives the same answers as the batch
      for (let r = 0; r < 3; r++) expect((await beamSearch(tree, trie, layout, [reqs[r]], { beamWidth }))[0].map((h) => h.row)).toEqual(a[r].map((h) => h.row));
    }
    await Promise.all([tree, flat, presentKv, growing].map((m) => m.close()));
  });

  it('tree caches come from the pool and go back to it: reused buffers (stale contents) change no score', async () => {
    const { cfg, model: pooled } = await runner();
    const { model: fresh } = await runner({ treePoolBytes: 0 });
    // a cache with one spare slot grows at every step: grown buffers come from the pool too
    const { model: growing } = await runner({ treeExtraSlots: 1 });
    const { model: growingFresh } = await runner({ treeExtraSlots: 1, treePoolBytes: 0 });
    const index = await loadIndex(indexDir);
    const trie = candidateTrie(index);
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    // prompt lengths going up and down, so buffers are reused at other sizes than they were made for
    const reqs = ds.test.slice(0, 16).map((e, i) => ({ prompt: layout.prompt(index.codes, e.history.map((id) => index.rowOf(id)!).slice(-(2 + ((i * 7) % 6))), 20) }));
    const search = (m: OnnxStepModel, r: (typeof reqs)[number]) => beamSearch(m, trie, layout, [r], { beamWidth: 6 }).then(([hits]) => hits.map((h) => [h.row, h.score]));
    for (const [model, reference] of [[pooled, fresh], [growing, growingFresh]]) {
      for (const r of reqs) expect(await search(model, r)).toEqual(await search(reference, r)); // bit for bit
      // concurrent searches hold separate buffers
      const conc = await Promise.all(reqs.map((r) => search(model, r)));
      expect(conc).toEqual(await Promise.all(reqs.map((r) => search(reference, r))));
      expect(model.pool.heldBytes).toBeGreaterThan(0);
      expect(reference.pool.heldBytes).toBe(0);
    }
    // per search: 2 cache buffers × layers, and one attention mask per graph call (prefill + a step
    // per further level, each given back when its call returns); the sequential searches reuse them
    const perSearch = 2 * cfg.params.layers + layout.levels;
    expect(pooled.pool.taken).toBe(2 * reqs.length * perSearch);
    expect(pooled.pool.made).toBeLessThanOrEqual(reqs.length * perSearch + 2 * perSearch);
    expect(growing.pool.taken).toBeGreaterThan(pooled.pool.taken);
    await Promise.all([pooled, fresh, growing, growingFresh].map((m) => m.close()));
  });

  it('session config entries reach onnxruntime: workers that spin on or stop change no score; one it refuses is a ModelError', async () => {
    const { cfg, model: stopping } = await runner({ threads: 2 }); // DEFAULT_SESSION_CONFIG: force_spinning_stop
    const { model: spinning } = await runner({ threads: 2, sessionConfig: { 'session.force_spinning_stop': '0' } });
    expect(DEFAULT_SESSION_CONFIG['session.force_spinning_stop']).toBe('1');
    const index = await loadIndex(indexDir);
    const trie = candidateTrie(index);
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    const reqs = ds.test.slice(0, 6).map((e) => ({ prompt: layout.prompt(index.codes, e.history.map((id) => index.rowOf(id)!), 20) }));
    expect(await beamSearch(stopping, trie, layout, reqs, { beamWidth: 6 })).toEqual(await beamSearch(spinning, trie, layout, reqs, { beamWidth: 6 }));
    // an entry onnxruntime acts on at load: read this ONNX file as the ORT format → refused, typed
    await expect(runner({ sessionConfig: { 'session.load_model_format': 'ORT' } })).rejects.toThrow(ModelError);
    await expect(runner({ sessionConfig: { 'session.load_model_format': 'ORT' } })).rejects.toThrow(/cannot load the model/);
    await Promise.all([stopping, spinning].map((m) => m.close()));
  });

  it('the tokenizer round-trips every semantic-ID token', () => {
    const cfg = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    const tok = loadTokenizer(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8'), readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8'));
    const vocab = vocabulary(layout);
    expect(vocab).toHaveLength(layout.vocabSize);
    const enc = tok.encode(vocab.join(''));
    expect(enc.ids).toEqual(vocab.map((_, i) => i));
    for (let l = 0; l < layout.levels; l++) for (let c = 0; c < layout.sizes[l]; c++) expect(tok.token_to_id(`<${String.fromCharCode(97 + l)}_${c}>`)).toBe(layout.token(l, c));
    expect(tok.decode(enc.ids.slice(4)).replace(/ /g, '')).toBe(vocab.slice(4).join(''));
  });

  it('serves through the Recommender: real items only; refuses a different index', async () => {
    const rec = await Recommender.load(modelDir, indexDir);
    const res = await Promise.all(ds.test.slice(0, 20).map((e) => rec.recommend(e.history, { k: 5, beamWidth: 8 })));
    for (const r of res) {
      expect(r.items).toHaveLength(5);
      for (const it of r.items) expect(rec.index.codeOf(it.itemId)).toEqual(it.codes);
    }
    const other = path.join(root, 'other-index');
    await buildIndexJob({ items: ds.items, scheme: 'rqkmeans:2x8', seed: 2, out: other });
    await expect(Recommender.load(modelDir, other)).rejects.toThrow(ModelError);
    // a catalogue grown by index add is served without retraining; the new item is a candidate
    const grown = path.join(root, 'grown-index');
    await addItemsJob({ index: indexDir, items: [{ id: 'NEW-ITEM', title: 'new', text: ds.items[7].text + ' new' }], out: grown });
    const rec2 = await Recommender.load(modelDir, grown);
    const only = await rec2.recommend(ds.test[0].history, { k: 1, allow: ['NEW-ITEM'] });
    expect(only.items.map((i) => [i.itemId, i.codes])).toEqual([['NEW-ITEM', rec2.index.codeOf('NEW-ITEM')]]);
    expect(Number.isFinite(only.items[0].score)).toBe(true);
    await rec2.close();
  });

  it('a 2-process gloo DDP run trains to the same quality as one process', async () => {
    const one = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')).params;
    const ddpDir = path.join(root, 'model-ddp');
    await trainModel({ data: dataDir, index: indexDir, out: ddpDir, arch: 'decoder', decoder: { ...tiny, nproc: 2 } });
    const two = JSON.parse(readFileSync(path.join(ddpDir, 'config.json'), 'utf8')).params;
    expect(two.nproc).toBe(2);
    expect(Math.abs(two.validLoss - one.validLoss) / one.validLoss).toBeLessThan(0.05);
    // the same world as two machines of one process each (node 1 runs its rank and writes nothing;
    // node 0 writes the model): the same run as the 2-process one
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const nodesDir = path.join(root, 'model-nodes');
    const node = (rank: number) => ({ data: dataDir, index: indexDir, out: nodesDir, arch: 'decoder', decoder: { ...tiny, nproc: 1, nodes: { count: 2, rank, addr: '127.0.0.1', port } } });
    const [cfg0, ranks1] = await Promise.all([trainModel(node(0)), trainNodeRanks(node(1))]);
    expect(ranks1).toMatchObject({ node: 1, nodes: 2, ranks: [1] });
    expect(cfg0.params).toMatchObject({ nproc: 1, nodes: 2, validLoss: two.validLoss, bestEpoch: two.bestEpoch });
    expect(readFileSync(path.join(nodesDir, 'model.onnx')).equals(readFileSync(path.join(ddpDir, 'model.onnx')))).toBe(true);
    // refused: a rank outside the nodes, node 1 asked to write the model, a kind without a transformer
    await expect(trainNodeRanks({ ...node(1), decoder: { ...tiny, nodes: { count: 2, rank: 2, addr: '127.0.0.1', port } } })).rejects.toThrow(/--node-rank must be an integer in 0..1, got 2/);
    await expect(trainModel(node(1))).rejects.toThrow(/node 1 of a multi-node run trains its ranks only/);
    await expect(trainModel({ ...node(0), arch: 'transition' })).rejects.toThrow(/multi-node training \(--nnodes\) trains a transformer/);
  }, 240_000);

  it('warmup-stable-decay: the decay starts when the time budget is nearly spent, the rate ends at zero, the best epoch is kept', async () => {
    const events: Record<string, unknown>[] = [];
    const dir = path.join(root, 'model-budget');
    const cfg = await trainModel({ data: dataDir, index: indexDir, out: dir, arch: 'transformer', decoder: { ...tiny, epochs: 50, timeBudget: 0.5, onEvent: (e) => events.push(e) } });
    const epochs = events.filter((e) => e.event === 'epoch');
    const decay = events.find((e) => e.event === 'decay');
    expect(decay?.reason).toMatch(/time budget/);
    expect(cfg.params.decayReason).toMatch(/time budget/);
    expect(epochs.length).toBeLessThan(50);
    expect(epochs.length).toBe(cfg.params.epochsRun);
    const last = epochs[epochs.length - 1];
    expect(last.phase).toBe('decay');
    expect(last.lr as number).toBeLessThan(3e-3 / 10); // annealed to ~0 at the last step
    expect(epochs.filter((e) => e.phase === 'stable').every((e) => e.lr === 3e-3)).toBe(true);
    const best = epochs.reduce((a, b) => ((b.valid_loss as number) < (a.valid_loss as number) ? b : a));
    expect(cfg.params.bestEpoch).toBe(best.epoch);
    expect(cfg.params.realTokensPerSecond as number).toBeGreaterThan(0);
  }, 180_000);
});


describe('runTrainer with several ranks', () => {
  /** A stand-in interpreter: each rank does what `script` says for its RANK. */
  async function withFakePython<T>(script: string, fn: () => Promise<T>): Promise<T> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'semrec-fakepy-'));
    const py = path.join(dir, 'python3');
    writeFileSync(py, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    const before = process.env.SEMREC_PYTHON;
    process.env.SEMREC_PYTHON = py;
    try {
      return await fn();
    } finally {
      if (before === undefined) delete process.env.SEMREC_PYTHON;
      else process.env.SEMREC_PYTHON = before;
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a rank left hanging after rank 0 finished is stopped after the grace period; a failing rank stops the others and is the error', async () => {
    const t0 = Date.now();
    const events = await withFakePython('if [ "$RANK" = "0" ]; then echo \'{"event":"done"}\'; exit 0; fi; exec sleep 600', () => runTrainer(['train'], () => {}, { nproc: 2, exitGraceMs: 300 }));
    expect(events).toEqual([{ event: 'done' }]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const t1 = Date.now();
    const failed = withFakePython('if [ "$RANK" = "1" ]; then echo "rank one broke" >&2; exit 3; fi; exec sleep 600', () => runTrainer(['train'], () => {}, { nproc: 2 }));
    await expect(failed).rejects.toThrow(/trainer exited with status 3:\nrank one broke/);
    expect(Date.now() - t1).toBeLessThan(20_000); // rank 0 was not waited for
  }, 60_000);
});
