import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { TfidfModel, tfidfSvdEmbeddings, loadEmbeddings, encodeF32, OnnxEncoder, embedItems } from '../../../src/indexing/embed/index.js';
import { FormatError, InputError } from '../../../src/errors.js';
import { tmp } from '../../helpers.js';
import { FLOAT, INT64, attrInt, model, node, tensor, valueInfo } from '../../onnx-builder.js';

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const row = (x: Float32Array, d: number, i: number) => x.subarray(i * d, (i + 1) * d);

describe('TF-IDF + SVD encoder', () => {
  const texts = [
    'red lipstick matte long wear',
    'matte lipstick nude long wear',
    'cast iron skillet for the kitchen',
    'nonstick frying pan kitchen cookware',
    'running shoes lightweight trail',
    'trail running shoes waterproof',
    'dog leash nylon durable',
    'dog harness nylon',
  ];

  it('places similar texts closer than dissimilar ones; rows are unit length', () => {
    const { x, dim } = tfidfSvdEmbeddings(texts, { dim: 6, seed: 1 });
    expect(dim).toBe(6);
    for (let i = 0; i < texts.length; i++) expect(cos(row(x, dim, i), row(x, dim, i))).toBeCloseTo(1, 5);
    expect(cos(row(x, dim, 0), row(x, dim, 1))).toBeGreaterThan(cos(row(x, dim, 0), row(x, dim, 2)));
    expect(cos(row(x, dim, 4), row(x, dim, 5))).toBeGreaterThan(cos(row(x, dim, 4), row(x, dim, 6)));
  });

  it('transform embeds the training texts like fit did, and new texts in the same space', () => {
    const { model: m, x } = TfidfModel.fit(texts, { dim: 6, seed: 1 });
    const again = m.transform(texts);
    for (let i = 0; i < texts.length; i++) expect(cos(row(x, 6, i), row(again, 6, i))).toBeGreaterThan(0.99);
    const fresh = m.transform(['waterproof trail running shoes']);
    const sims = texts.map((_, i) => cos(fresh, row(x, 6, i)));
    expect([4, 5]).toContain(sims.indexOf(Math.max(...sims))); // a running-shoes text
    const restored = TfidfModel.fromState(m.state);
    expect(Array.from(restored.transform(['dog leash']))).toEqual(Array.from(m.transform(['dog leash'])));
  });

  it('rejects text without usable terms', () => {
    expect(() => tfidfSvdEmbeddings(['the a of', 'and or'])).toThrow(InputError);
  });
});

describe('precomputed embeddings', () => {
  function npy(descr: string, shape: string, body: Buffer): Buffer {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
    header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const pre = Buffer.alloc(10);
    pre.writeUInt8(0x93, 0);
    pre.write('NUMPY', 1, 'latin1');
    pre.writeUInt8(1, 6);
    pre.writeUInt8(0, 7);
    pre.writeUInt16LE(header.length, 8);
    return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
  }

  it('reads .npy float32 and float64, and .f32 with a shape header', async () => {
    const d = tmp();
    const vals = new Float32Array([1, 2, 3, 4, 5, 6]);
    writeFileSync(path.join(d, 'a.npy'), npy('<f4', '(3, 2)', Buffer.from(vals.buffer)));
    writeFileSync(path.join(d, 'b.npy'), npy('<f8', '(2, 3)', Buffer.from(Float64Array.from(vals).buffer)));
    writeFileSync(path.join(d, 'c.f32'), encodeF32(vals, 2, 3));
    expect(await loadEmbeddings(path.join(d, 'a.npy'))).toEqual({ x: vals, n: 3, dim: 2 });
    expect(await loadEmbeddings(path.join(d, 'b.npy'))).toEqual({ x: vals, n: 2, dim: 3 });
    expect(await loadEmbeddings(path.join(d, 'c.f32'))).toEqual({ x: vals, n: 2, dim: 3 });
  });

  it('refuses truncated, wrongly typed and misshaped files', async () => {
    const d = tmp();
    const vals = new Float32Array(6);
    writeFileSync(path.join(d, 't.npy'), npy('<f4', '(3, 2)', Buffer.from(vals.buffer).subarray(0, 20)));
    writeFileSync(path.join(d, 'i.npy'), npy('<i4', '(3, 2)', Buffer.from(vals.buffer)));
    writeFileSync(path.join(d, 's.npy'), npy('<f4', '(6,)', Buffer.from(vals.buffer)));
    writeFileSync(path.join(d, 'x.f32'), encodeF32(vals, 4, 3));
    await expect(loadEmbeddings(path.join(d, 't.npy'))).rejects.toThrow(/truncated/);
    await expect(loadEmbeddings(path.join(d, 'i.npy'))).rejects.toThrow(/dtype <i4 not supported/);
    await expect(loadEmbeddings(path.join(d, 's.npy'))).rejects.toThrow(/2-D/);
    await expect(loadEmbeddings(path.join(d, 'x.f32'))).rejects.toThrow(FormatError);
  });
});

describe('ONNX sentence encoder', () => {
  /** A tiny encoder: hidden = Embedding[input_ids] * attention_mask, with a WordPiece tokenizer. */
  function makeEncoder(dir: string): { vocab: string[]; table: Float32Array; D: number } {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'red', 'lip', '##stick', 'dog', 'leash'];
    const D = 4;
    const table = Float32Array.from({ length: vocab.length * D }, (_, i) => Math.sin(i * 0.7) + (i % 3));
    const onnx = model({
      initializers: [tensor('emb', [vocab.length, D], FLOAT, table), tensor('axes', [1], INT64, new BigInt64Array([2n]))],
      nodes: [
        node('Gather', ['emb', 'input_ids'], ['h']),
        node('Cast', ['attention_mask'], ['mf'], [attrInt('to', FLOAT)]),
        node('Unsqueeze', ['mf', 'axes'], ['m3']),
        node('Mul', ['h', 'm3'], ['last_hidden_state']),
      ],
      inputs: [valueInfo('input_ids', INT64, ['batch', 'seq']), valueInfo('attention_mask', INT64, ['batch', 'seq'])],
      outputs: [valueInfo('last_hidden_state', FLOAT, ['batch', 'seq', D])],
    });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.onnx'), onnx);
    const tokenizer = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: vocab.slice(0, 4).map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [],
        special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
      },
      decoder: null,
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
    };
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
    writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '[PAD]', model_max_length: 32, do_lower_case: true }));
    return { vocab, table, D };
  }

  it('tokenises, runs batched, mean-pools over the mask and normalises (vs hand computation)', async () => {
    const dir = path.join(tmp(), 'enc');
    const { vocab, table, D } = makeEncoder(dir);
    const enc = await OnnxEncoder.load(dir, { batchSize: 2 });
    const texts = ['Red lipstick', 'dog leash', 'red'];
    const { x, dim } = await enc.embed(texts);
    await enc.close();
    expect(dim).toBe(D);
    const expected = (tokens: string[]) => {
      const v = new Float32Array(D);
      for (const t of tokens) for (let j = 0; j < D; j++) v[j] += table[vocab.indexOf(t) * D + j] / tokens.length;
      const norm = Math.hypot(...v);
      return v.map((a) => a / norm);
    };
    const want = [expected(['[CLS]', 'red', 'lip', '##stick', '[SEP]']), expected(['[CLS]', 'dog', 'leash', '[SEP]']), expected(['[CLS]', 'red', '[SEP]'])];
    want.forEach((w, i) => w.forEach((v, j) => expect(x[i * D + j]).toBeCloseTo(v, 5)));
  });

  it('is selectable through embedItems, and a directory without a model is a clear error', async () => {
    const dir = path.join(tmp(), 'enc');
    makeEncoder(dir);
    const e = await embedItems(
      [
        { id: 'a', title: 'red', text: 'red' },
        { id: 'b', title: 'dog', text: 'dog' },
      ],
      { kind: 'onnx', dir },
    );
    expect(e.dim).toBe(4);
    expect(e.record).toEqual({ kind: 'onnx', dir, dim: 4 });
    await expect(OnnxEncoder.load(tmp())).rejects.toThrow(/encoder model \(model.onnx\) not found/);
  });
});
