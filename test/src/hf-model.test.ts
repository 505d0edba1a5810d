/**
 * Serving a Hugging Face-layout model: GPT-2 config and tensor names, a text vocabulary with the
 * semantic-ID tokens added at arbitrary positions, a text prompt template. The fixture is our own
 * tiny transformer exported into that layout (no downloads).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { resealArtifact } from '../../quantizer/core/index.js';
import path from 'node:path';
import { Recommender } from '../../src/serving/recommender.js';
import { exportHfModel } from '../../src/training/hf-export.js';
import { hfDims, layoutFromTokenizer, promptText } from '../../src/serving/model/hf-model.js';
import { loadTokenizer } from '../../src/serving/model/tokenizer.js';
import { buildIndexJob } from '../../src/indexing/jobs.js';
import { ModelError } from '../../src/errors.js';
import { trainTinyModel, type TinyModel } from './tiny-model.js';
import type { TextPromptStepModel } from '../../src/serving/model/text-model.js';

let fx: TinyModel;
let exact: string;
let worded: string;
const template = 'User history : {history} Next item :';

beforeAll(async () => {
  fx = await trainTinyModel();
  exact = path.join(fx.root, 'hf-exact');
  worded = path.join(fx.root, 'hf-words');
  await exportHfModel(fx.modelDir, exact, { shuffleSeed: 7 });
  await exportHfModel(fx.modelDir, worded, { shuffleSeed: 3, promptTemplate: template, itemSeparator: ' | ', words: ['recommend', 'buy'] });
}, 180_000);

const tokenizerOf = (dir: string) => loadTokenizer(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'), readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));

describe('Hugging Face-layout models', () => {
  it('has the Optimum layout: HF config, GPT-2 tensor names, ID tokens as added tokens at shuffled ids', () => {
    const cfg = JSON.parse(readFileSync(path.join(exact, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'gpt2', n_layer: 2, n_head: 2, n_embd: 32 });
    const onnx = readFileSync(path.join(exact, 'model.onnx')).toString('latin1');
    for (const name of ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.ln_1.weight', 'transformer.h.1.attn.c_attn.bias', 'past_key_values.1.value', 'present.0.key']) expect(onnx).toContain(name);
    const { layout, map } = layoutFromTokenizer(tokenizerOf(exact));
    expect(layout.sizes).toEqual(JSON.parse(readFileSync(path.join(fx.modelDir, 'config.json'), 'utf8')).tokenLayout.sizes);
    const ids = Array.from(map.subarray(4));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.some((id, i) => id !== i + 4)).toBe(true); // not the canonical order
  });

  it('serves the same recommendations and scores as the native model when the vocabularies hold the same tokens', async () => {
    const native = await Recommender.load(fx.modelDir, fx.indexDir);
    const hf = await Recommender.load(exact, fx.indexDir);
    expect(hf.config.architecture).toBe('hf-causal-lm');
    for (const e of fx.ds.test.slice(0, 15)) {
      const a = await native.recommend(e.history, { k: 5, beamWidth: 10 });
      const b = await hf.recommend(e.history, { k: 5, beamWidth: 10 });
      expect(b.items.map((x) => x.itemId)).toEqual(a.items.map((x) => x.itemId));
      b.items.forEach((x, i) => expect(Math.abs(x.score - a.items[i].score)).toBeLessThan(1e-4));
    }
  });

  it('builds prompts from the text template with the tokenizer, and returns only real items', async () => {
    const rec = await Recommender.load(worded, fx.indexDir);
    const tok = tokenizerOf(worded);
    const e = fx.ds.test[0];
    const rows = e.history.map((id) => rec.index.rowOf(id)!).slice(-4);
    const text = promptText({ promptTemplate: template, itemSeparator: ' | ' }, rows.map((r) => rec.index.codeOf(rec.index.itemIds[r])!));
    expect(text.startsWith('User history : <a_')).toBe(true);
    // the model is prompted with the ID prompt and writes its text prompt itself
    const textOf = (r: number[]) => (rec.model as TextPromptStepModel<unknown>).textPrompt(rec.promptOf(r));
    const prompt = textOf(rows);
    expect(Array.from(prompt)).toEqual(tok.encode(text, { add_special_tokens: false }).ids);
    expect(prompt[0]).toBe(tok.token_to_id('User'));
    expect(Array.from(prompt).slice(-3)).toEqual(['Next', 'item', ':'].map((w) => tok.token_to_id(w)));
    // a long history is cut from the oldest item so that prompt + one tuple fit the positions
    const maxPos = JSON.parse(readFileSync(path.join(worded, 'config.json'), 'utf8')).n_positions;
    const long = textOf(Array.from({ length: 20 }, (_, i) => i));
    expect(long.length + rec.layout.levels).toBeLessThanOrEqual(maxPos);
    expect(long.length + rec.layout.levels + 4).toBeGreaterThan(maxPos); // one more item would not fit
    expect(Array.from(long.slice(-3 - 3))).toEqual(Array.from(textOf([19]).slice(-6)));
    const res = await Promise.all(fx.ds.test.slice(0, 20).map((t) => rec.recommend(t.history, { k: 5, beamWidth: 8, excludeSeen: true })));
    for (const [i, r] of res.entries()) {
      expect(r.items).toHaveLength(5);
      for (const it of r.items) {
        expect(rec.index.codeOf(it.itemId)).toEqual(it.codes);
        expect(Number.isFinite(it.score)).toBe(true);
        expect(fx.ds.test[i].history).not.toContain(it.itemId);
      }
    }
  });

  it('refuses a different index, a tokenizer whose ID tokens do not fit, and a bad config', async () => {
    const other = path.join(fx.root, 'other-index');
    await buildIndexJob({ items: fx.ds.items, scheme: 'rqkmeans:2x8', seed: 9, out: other });
    await expect(Recommender.load(exact, other)).rejects.toThrow(/trained on index/);
    expect(() => layoutFromTokenizer(tokenizerOf(exact), [8, 8, 4])).toThrow(ModelError);
    const tj = JSON.parse(readFileSync(path.join(exact, 'tokenizer.json'), 'utf8'));
    tj.added_tokens = tj.added_tokens.filter((t: { content: string }) => t.content !== '<b_3>');
    delete tj.model.vocab['<b_3>'];
    const broken = loadTokenizer(JSON.stringify(tj), '{}');
    expect(() => layoutFromTokenizer(broken)).toThrow(/lacks <b_3>/);
    const serving = path.join(exact, 'semrec.json');
    const good = readFileSync(serving, 'utf8');
    writeFileSync(serving, JSON.stringify({ ...JSON.parse(good), promptTemplate: 'no placeholder' }));
    await expect(Recommender.load(exact, fx.indexDir)).rejects.toThrow(/checksum mismatch|expected \d+ \(truncated or damaged\)/); // MANIFEST.json
    await resealArtifact(exact);
    await expect(Recommender.load(exact, fx.indexDir)).rejects.toThrow(/\{history\}/);
    writeFileSync(serving, good);
    await resealArtifact(exact);
  });

  it('reads GPT-2, Llama and Qwen2 configs (grouped-query attention: key/value heads)', () => {
    expect(hfDims({ model_type: 'gpt2', n_layer: 12, n_head: 12, n_embd: 768, vocab_size: 50257 })).toEqual({ modelType: 'gpt2', layers: 12, kvHeads: 12, headDim: 64, vocabSize: 50257 });
    expect(hfDims({ model_type: 'llama', num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, hidden_size: 2048, vocab_size: 128256 })).toMatchObject({ layers: 16, kvHeads: 8, headDim: 64 });
    expect(hfDims({ model_type: 'qwen2', num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, hidden_size: 896, vocab_size: 151936 })).toMatchObject({ kvHeads: 2, headDim: 64 });
    expect(() => hfDims({ model_type: 'bert', hidden_size: 768 })).toThrow(ModelError);
  });
});
