/**
 * Training per model kind (src/training/kinds.ts): names and aliases resolve to one object each,
 * unknown names and options a kind cannot honour are refused with typed errors before anything is
 * read, and the llm kind pins its block on every node of a run.
 */
import { describe, expect, it } from 'vitest';
import { TRAIN_KINDS, trainerKind } from '../../src/training/kinds.js';
import { trainKind, trainModel, trainNodeRanks } from '../../src/training/train.js';
import { InputError } from '../../src/errors.js';

const missing = { data: 'no-such-dataset-dir', index: 'no-such-index-dir', out: 'no-such-out-dir' };

describe('training kinds', () => {
  it('resolves every name and alias to its kind object, fused by default', () => {
    for (const [name, kind] of Object.entries(TRAIN_KINDS)) {
      expect(kind.name).toBe(name);
      expect(trainerKind(name)).toBe(kind);
      for (const a of kind.aliases) expect(trainKind(a)).toBe(name);
    }
    expect(trainKind(undefined)).toBe('fused');
    expect(trainKind('decoder')).toBe('transformer');
    expect(trainKind('bigram')).toBe('transition');
    expect(Object.keys(TRAIN_KINDS).sort()).toEqual(['fused', 'llm', 'sasrec', 'transformer', 'transition']);
  });

  it('refuses an unknown kind with a typed error naming the kinds', () => {
    expect(() => trainKind('gpt')).toThrow(InputError);
    expect(() => trainKind('gpt')).toThrow(/fused, transformer, llm, transition or sasrec/);
  });

  it('refuses the gpt2 block under kind llm before reading the data', async () => {
    const err = await trainModel({ ...missing, arch: 'llm', decoder: { block: 'gpt2' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/kind llm is the Llama-family block; block "gpt2" is trained by kind transformer/);
  });

  it('pins the llm block for node 0 and for the other nodes alike', () => {
    const prepared = TRAIN_KINDS.llm.prepare!({ ...missing, arch: 'llm', decoder: { layers: 2 } });
    expect(prepared.decoder).toEqual({ layers: 2, block: 'llm' });
    expect(TRAIN_KINDS.transformer.prepare).toBeUndefined();
  });

  it('says which kinds train a transformer (multi-node training applies only to them)', async () => {
    const nodes = { count: 2, rank: 1, addr: '127.0.0.1', port: 29500 };
    for (const arch of ['transition', 'sasrec']) {
      const err = await trainNodeRanks({ ...missing, arch, decoder: { nodes } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).message).toMatch(/multi-node training \(--nnodes\) trains a transformer/);
    }
    const reused = await trainNodeRanks({ ...missing, arch: 'fused', transformerFrom: 'x', decoder: { nodes } }).catch((e: unknown) => e);
    expect((reused as InputError).message).toMatch(/not a reused transformer/);
    // a transformer-training kind passes the kind check and fails on the missing data instead
    for (const arch of ['transformer', 'llm', 'fused']) {
      const err = await trainNodeRanks({ ...missing, arch, decoder: { nodes } }).catch((e: unknown) => e);
      expect((err as Error).message).not.toMatch(/multi-node/);
    }
  });
});
