/**
 * The transition model's counts: the typed-array fit against the brute-force map of pairs (same
 * numbers to the bit: the same additions in the same order), transition.bin round trips and
 * refusals, and a model directory written before it (bigram.json) still serving the same items.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng, resealArtifact, resolveArtifact } from '../../quantizer/core/index.js';
import { ModelError } from '../../src/errors.js';
import { fitTransition } from '../../src/serving/model/transition.js';
import { LEGACY_TRANSITION_FILE, TRANSITION_FILE, decodeTransition, encodeTransition, type TransitionData } from '../../src/serving/model/transition-file.js';
import { Recommender } from '../../src/serving/recommender.js';
import { transitionPipeline } from './pipeline.js';

/** The fit as it was written first: a map per source, weights added in sequence order. */
function bruteForce(seqs: number[][], items: number, window: number): { counts: number[]; srcPtr: number[]; dst: number[]; dstCount: number[] } {
  const counts = new Array<number>(items).fill(0);
  const trans = new Map<number, Map<number, number>>();
  for (const s of seqs) {
    for (let i = 0; i < s.length; i++) {
      counts[s[i]]++;
      for (let d = 1; d <= window && i + d < s.length; d++) {
        let m = trans.get(s[i]);
        if (!m) trans.set(s[i], (m = new Map()));
        m.set(s[i + d], (m.get(s[i + d]) ?? 0) + 1 / d);
      }
    }
  }
  const srcPtr = [0];
  const dst: number[] = [];
  const dstCount: number[] = [];
  for (let s = 0; s < items; s++) {
    for (const [d, c] of [...(trans.get(s) ?? new Map<number, number>()).entries()].sort((a, b) => a[0] - b[0])) {
      dst.push(d);
      dstCount.push(c);
    }
    srcPtr.push(dst.length);
  }
  return { counts, srcPtr, dst, dstCount };
}

const plain = (d: TransitionData) => ({ counts: Array.from(d.counts), srcPtr: Array.from(d.srcPtr), dst: Array.from(d.dst), dstCount: Array.from(d.dstCount) });

describe('fitTransition', () => {
  it('equals the brute-force map of pairs bit for bit, for windows 1-7 on random sequences with repeats', () => {
    const r = new Rng(5);
    for (let trial = 0; trial < 12; trial++) {
      const items = 1 + r.int(40);
      const seqs = Array.from({ length: r.int(60) }, () => Array.from({ length: r.int(15) }, () => r.int(items)));
      for (const window of [1, 2, 3, 7]) {
        const got = fitTransition(seqs, items, 2, { window, history: 1, decay: 1 });
        expect(plain(got)).toEqual(bruteForce(seqs, items, window));
        // the bits, not only the values toEqual compares
        expect(Buffer.from(got.dstCount.buffer).equals(Buffer.from(Float64Array.from(bruteForce(seqs, items, window).dstCount).buffer))).toBe(true);
      }
    }
  });

  it('refuses item rows outside the table and windows out of range', () => {
    expect(() => fitTransition([[0, 3]], 3)).toThrow(/item row 3 is outside 0..2/);
    expect(() => fitTransition([[0, -1]], 3)).toThrow(ModelError);
    expect(() => fitTransition([[0, 1]], 3, 2, { window: 1001 })).toThrow(/window/);
  });
});

describe('transition.bin', () => {
  const sample = (): TransitionData => fitTransition([[0, 1, 2, 1], [2, 0, 1], [3, 3, 1]], 5, 2, { window: 2, history: 2, decay: 0.5 });

  it('round trips every field; the arrays of an aligned buffer are views, a misaligned one is copied', () => {
    const d = sample();
    const bytes = encodeTransition(d);
    const back = decodeTransition(bytes, 't.bin');
    expect({ ...back, ...plain(back) }).toEqual({ ...d, ...plain(d) });
    expect(back.dstCount.buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const moved = decodeTransition(shifted.subarray(3), 't.bin');
    expect(plain(moved)).toEqual(plain(d));
    // a first-order model stores no shape, as before
    expect(decodeTransition(encodeTransition(fitTransition([[0, 1]], 2)), 't.bin')).not.toHaveProperty('window');
  });

  it('refuses, naming the file and what is wrong: magic, lengths, header, structure, counts', () => {
    const d = sample();
    const bytes = encodeTransition(d);
    const refuse = (b: Uint8Array, why: RegExp) => expect(() => decodeTransition(b, 'x/transition.bin')).toThrow(why);
    refuse(Buffer.from('{"items": 5}'), /x\/transition.bin: invalid transition model: not a semrec transition file/);
    refuse(bytes.subarray(0, bytes.length - 4), /bytes, the header's sizes \(5 items, \d+ transitions\) make \d+/);
    refuse(Buffer.concat([bytes, Buffer.alloc(8)]), /the header's sizes/);
    const withHeader = (h: unknown) => {
      const head = Buffer.from(JSON.stringify(h));
      const out = Buffer.alloc(12 + head.length);
      out.write('SEMRTRN1', 'latin1');
      out.writeUInt32LE(head.length, 8);
      head.copy(out, 12);
      return out;
    };
    refuse(withHeader({ items: 5, beta: 0, nnz: 0 }), /beta/);
    refuse(withHeader({ items: 5, beta: 2, nnz: 0, extra: 1 }), /extra/);
    const headLen = Buffer.from(bytes).readUInt32LE(8);
    const at = (12 + headLen + 7) & ~7;
    const nnz = d.dst.length;
    const edit = (fn: (b: Buffer) => void) => {
      const b = Buffer.from(bytes);
      fn(b);
      return b;
    };
    refuse(edit((b) => b.writeDoubleLE(-1, at)), /transition count -1 at 0 is not positive and finite/);
    refuse(edit((b) => b.writeDoubleLE(NaN, at + 8)), /transition count NaN at 1/);
    refuse(edit((b) => b.writeUInt32LE(5, at + 8 * nnz + 4 * 5 + 4 * 6)), /destination row 5 ≥ 5 items/);
    refuse(edit((b) => b.writeUInt32LE(nnz + 1, at + 8 * nnz + 4 * 5 + 4)), /srcPtr decreases|srcPtr does not delimit/);
    expect(() => encodeTransition({ ...d, dst: d.dst.map(() => 9) })).toThrow(/destination row 9/);
  });

  it('a model directory written before it (bigram.json) serves the same items and scores', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'semrec-tbin-'));
    try {
      const p = await transitionPipeline(root, { items: 120, users: 300, seed: 4 });
      const dir = await resolveArtifact(p.model);
      const now = await Recommender.load(p.model, p.index);
      const histories = p.ds.test.slice(0, 20).map((e) => e.history);
      const want = await Promise.all(histories.map((h) => now.recommend(h, { k: 10 })));
      await now.close();
      // rewrite it as the older format: bigram.json with the same counts, no transition.bin
      const d = decodeTransition(readFileSync(path.join(dir, TRANSITION_FILE)), TRANSITION_FILE);
      writeFileSync(path.join(dir, LEGACY_TRANSITION_FILE), JSON.stringify({ ...d, ...plain(d) }));
      rmSync(path.join(dir, TRANSITION_FILE));
      await resealArtifact(dir);
      const old = await Recommender.load(p.model, p.index);
      expect(await Promise.all(histories.map((h) => old.recommend(h, { k: 10 })))).toEqual(want);
      await old.close();
      // and its own checks still hold
      writeFileSync(path.join(dir, LEGACY_TRANSITION_FILE), JSON.stringify({ ...d, ...plain(d), dst: plain(d).dst.map(() => d.items) }));
      await resealArtifact(dir);
      await expect(Recommender.load(p.model, p.index)).rejects.toThrow(/bigram.json: invalid transition model: destination row/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
