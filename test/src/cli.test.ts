import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { run } from './cli-helpers.js';
import { fixture, tmp } from '../helpers.js';

describe('semrec CLI', () => {
  it('--help lists the commands', async () => {
    const r = await run(['--help']);
    expect(r.out).toMatch(/data/);
    expect(r.out).toMatch(/demo/);
    const d = await run(['data', '--help']);
    expect(d.out).toMatch(/synth/);
    expect(d.out).toMatch(/prepare/);
    expect(d.out).toMatch(/stats/);
  });

  it('data synth writes a dataset and prints counts', async () => {
    const out = path.join(tmp(), 'syn');
    const r = await run(['data', 'synth', '--out', out, '--items', '150', '--users', '300', '--seed', '4', '--json']);
    expect(r.code).toBe(0);
    const counts = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(counts.users).toBeGreaterThan(250);
    const meta = JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8'));
    expect(meta.counts).toMatchObject({ users: counts.users, items: counts.items });
    expect(meta.params).toMatchObject({ items: 150, users: 300, seed: 4 });
  });

  it('data prepare reads a format, prints counts and malformed lines with numbers', async () => {
    const d = tmp();
    const lines = ['user,item,timestamp'];
    for (let u = 0; u < 6; u++) for (let i = 0; i < 6; i++) lines.push(`u${u},i${i},${u * 10 + i}`);
    lines.splice(3, 0, 'broken');
    const interactions = fixture(d, 'inter.csv', lines.join('\n'));
    const r = await run(['data', 'prepare', '--format', 'jsonl', '--interactions', interactions, '--out', path.join(d, 'out')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/users\s+6/);
    expect(r.out).toMatch(/items\s+6/);
    expect(r.out).toMatch(/interactions\s+36/);
    expect(r.out).toMatch(/inter\.csv:4: expected 3 fields, got 1/);
  });

  it('usage errors exit 2 (bad input), --help and --version exit 0', async () => {
    const u = await run(['data', 'stats', 'x', '--no-such-flag']);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/unknown option '--no-such-flag'/);
    expect((await run(['train'])).code).toBe(2); // missing required options
    expect((await run(['--version'])).code).toBe(0);
    expect((await run(['index', '--help'])).code).toBe(0);
  });

  it('bad input gives a one-line typed error and exit code 2', async () => {
    const d = tmp();
    const r = await run(['data', 'prepare', '--format', 'movielens', '--ratings', path.join(d, 'missing.dat'), '--out', path.join(d, 'o')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/semrec: error \[E_NOT_FOUND\] file not found: .*missing\.dat/);
    const r2 = await run(['data', 'synth', '--out', path.join(d, 'o'), '--items', 'many']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/--items must be an integer/);
    // library messages name parameters; the CLI adds the flag
    const r3 = await run(['data', 'prepare', '--format', 'recbole', '--sequences', path.join(d, 'x.txt'), '--out', path.join(d, 'o')]);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/semrec: error \[E_INPUT\] format recbole needs the source file\(s\) datamaps, items \[--datamaps\]\n$/);
  });

  it('every member of the error family (engine, quantizer, decoding) is a SemrecError; through the CLI: one line, exit 2', async () => {
    const { SemrecError, InputError } = await import('../../src/errors.js');
    const { QuantizerError, IndexFormatError, QuantizerInputError } = await import('../../quantizer/errors.js');
    const { DecodingInputError } = await import('../../decoding/errors.js');
    for (const e of [new InputError('x'), new IndexFormatError('/d', 'bad'), new DecodingInputError('bad layout')]) {
      expect(e).toBeInstanceOf(SemrecError);
      expect(typeof e.code).toBe('string');
    }
    expect(new IndexFormatError('/d', 'x')).toBeInstanceOf(QuantizerError);
    // one class per code: E_INPUT is InputError in every layer (the cores' names are aliases of it)
    expect(DecodingInputError).toBe(InputError);
    expect(QuantizerInputError).toBe(InputError);
    expect(new DecodingInputError('x').code).toBe('E_INPUT');
    // a decoding-core error through the CLI: a model whose token layout is broken
    const d = tmp();
    const data = path.join(d, 'data');
    expect((await run(['data', 'synth', '--out', data, '--items', '120', '--users', '300', '--seed', '4'])).code).toBe(0);
    expect((await run(['index', 'build', '--items', data, '--scheme', 'rqkmeans:2x16', '--out', path.join(d, 'index')])).code).toBe(0);
    expect((await run(['train', '--data', data, '--index', path.join(d, 'index'), '--out', path.join(d, 'model'), '--arch', 'transition'])).code).toBe(0);
    const { readFileSync: rf, writeFileSync: wf } = await import('node:fs');
    const cfgFile = path.join(d, 'model', 'config.json');
    const cfg = JSON.parse(rf(cfgFile, 'utf8'));
    wf(cfgFile, JSON.stringify({ ...cfg, tokenLayout: { ...cfg.tokenLayout, sizes: [0, 16] } }));
    const items = JSON.parse(rf(path.join(data, 'train.jsonl'), 'utf8').split('\n')[0]).items as string[];
    const r = await run(['recommend', '--model', path.join(d, 'model'), '--history', items.join(',')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^semrec: error \[E_[A-Z_]+\] /);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('demo runs the whole pipeline on small synthetic data', async () => {
    const out = path.join(tmp(), 'demo');
    const r = await run(['demo', '--out', out, '--items', '150', '--users', '400', '--seed', '2', '--scheme', 'rqkmeans:2x16', '--epochs', '2']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\[3\/4\] generator: transformer \(2 layers, d_model 64, up to 2 epochs.*fused with the transition model/);
    expect(r.out).toMatch(/fusion weight of the transition model chosen on \d+ validation users: [\d.]+/);
    expect(r.out).toMatch(/\[4\/4\] trie-constrained beam search/);
    expect(r.out).toMatch(/invalid-ID rate 0 \(every recommendation is a real item\)/);
    const row = (name: string) => {
      const m = new RegExp(`\\n  ${name}\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)`).exec(r.out);
      expect(m, name).not.toBeNull();
      return Number(m![3]); // R@10
    };
    const fused = row('fused');
    row('transformer alone');
    row('transition alone');
    expect(fused).toBeGreaterThan(row('popularity')); // R@10 above popularity
    expect(existsSync(path.join(out, 'model', 'model.onnx'))).toBe(true);
    expect(r.out).toMatch(/rec #1 {3}\S/);
  });
});

