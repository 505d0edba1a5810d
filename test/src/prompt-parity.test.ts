/**
 * The prompt format across the language boundary: the PyTorch trainer cuts its training windows
 * and validation examples itself (trainer/data.py), and the model is served with
 * `TokenLayout.prompt`. Where the trainer's input predicts an item's first token, its ids must be
 * exactly the serving prompt of the items before it, and the labels that item's tokens.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { TokenLayout } from '../../decoding/index.js';
import { pythonPath, trainerRoot } from '../../src/training/python.js';

describe('prompt format: trainer windows = serving prompts', () => {
  it('every training target and the validation target see the serving prompt of their history', () => {
    const sizes = [5, 7, 3];
    const layout = new TokenLayout(sizes);
    const L = sizes.length;
    const codes = new Uint16Array([0, 1, 2, 4, 6, 0, 1, 1, 1, 3, 0, 2, 2, 5, 1, 4, 4, 0]); // 6 items
    const seq = [3, 0, 5, 1, 2, 4, 0];
    const maxHistory = 3;
    // what train-decoder.ts writes: the serving prompt minus its BOS
    const tokens = Array.from(layout.prompt(codes, seq).subarray(1));
    const script = [
      'import json, sys',
      'from trainer.data import train_windows, valid_examples',
      'toks, L, mh = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])',
      'import numpy as np',
      'w = [(i.tolist(), l.tolist()) for i, l in train_windows([np.array(toks)], L, mh)]',
      'v = [(i.tolist(), l.tolist()) for i, l in valid_examples([np.array(toks)], L)]',
      'print(json.dumps({"windows": w, "valid": v}))',
    ].join('\n');
    const out = JSON.parse(execFileSync(pythonPath(), ['-c', script, JSON.stringify(tokens), String(L), String(maxHistory)], { env: { ...process.env, PYTHONPATH: trainerRoot() }, encoding: 'utf8' }));
    // the documented windows: from the end, [st, e) with st = max(0, e − (maxHistory + 1)), next e = st + 1
    const spans: [number, number][] = [];
    for (let e = seq.length; e > 1; ) {
      const st = Math.max(0, e - (maxHistory + 1));
      spans.push([st, e]);
      e = st + 1;
    }
    const windows = out.windows as [number[], number[]][];
    expect(windows).toHaveLength(spans.length);
    const targets: number[] = [];
    spans.forEach(([st, e], w) => {
      const [ids, labels] = windows[w];
      expect(labels.slice(0, L).every((x) => x === -100)).toBe(true);
      for (let k = 1; k < e - st; k++) {
        const p = k * L; // this position predicts item st + k's first token
        expect(ids.slice(0, p + 1)).toEqual(Array.from(layout.prompt(codes, seq.slice(st, st + k))));
        expect(labels.slice(p, p + L)).toEqual(layout.tokens(Array.from(codes.subarray(seq[st + k] * L, seq[st + k] * L + L))));
        targets.push(st + k);
      }
    });
    expect(targets.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]); // every item after the first, exactly once
    const [vids, vlabels] = out.valid[0] as [number[], number[]];
    const last = seq.length - 1;
    expect(vids.slice(0, 1 + last * L)).toEqual(Array.from(layout.prompt(codes, seq.slice(0, last))));
    expect(vlabels.filter((x: number) => x !== -100)).toEqual(layout.tokens(Array.from(codes.subarray(seq[last] * L, seq[last] * L + L))));
  });
});
