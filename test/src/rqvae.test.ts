/**
 * `rqvae:LxK` end to end from the CLI on synthetic data: the PyTorch trainer learns the encoder
 * and codebooks, TypeScript encodes the catalogue with them (the trainer's own code report must
 * agree: same weights layout on both sides of the language boundary), `index add` places new
 * items through the stored encoder, and a transformer trains and serves on the IDs.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli-helpers.js';
import { tmp } from '../helpers.js';
import { encodeF32 } from '../../src/indexing/embed/npy.js';

describe('rqvae scheme', () => {
  it('builds (utilisation ≥ 0.9 per level), adds new items through the stored encoder, and trains end to end', async () => {
    const root = tmp();
    const data = path.join(root, 'data');
    const idx = path.join(root, 'idx');
    expect((await run(['data', 'synth', '--out', data, '--items', '300', '--users', '800', '--seed', '3'])).code).toBe(0);
    const b = await run(['index', 'build', '--items', data, '--data', data, '--embed', 'text+cf', '--scheme', 'rqvae:3x16', '--rqvae-epochs', '60', '--seed', '1', '--out', idx]);
    expect(b.code, b.err).toBe(0);
    expect(b.err).toMatch(/training RQ-VAE/);
    const st = JSON.parse((await run(['index', 'stats', idx])).out);
    expect(st.scheme).toBe('rqvae:3x16');
    const rq = st.params.rqvae as { utilisation: number[]; collisions: number; dims: number[] };
    expect(rq.dims[rq.dims.length - 1]).toBe(32);
    expect(st.params.encoder).toMatch(/→rqvae-mlp:128-256-128-32$/);
    for (let l = 0; l < 3; l++) {
      expect(st.perLevel[l].utilisation).toBeGreaterThanOrEqual(0.9);
      // TypeScript's encoding of the trainer's latents uses the same codes the trainer reported
      expect(Math.abs(st.perLevel[l].used - rq.utilisation[l] * 16)).toBeLessThanOrEqual(1);
    }
    expect(Math.abs(st.collisionsResolved - rq.collisions)).toBeLessThanOrEqual(3);

    const dump = async (dir: string) => (await run(['index', 'dump', dir])).out.trim().split('\n').map((l) => JSON.parse(l) as { item: string; codes: number[] });
    const rows = await dump(idx);
    const newItems = path.join(root, 'new.jsonl');
    writeFileSync(newItems, ['{"id":"N1","title":"Lumavo Gentle Rose Vitamin C Serum, 1 oz"}', '{"id":"N2","title":"Solbri Trail Running Shoes, Medium"}'].join('\n'));
    const idx2 = path.join(root, 'idx2');
    const a = await run(['index', 'add', '--index', idx, '--items', newItems, '--out', idx2]);
    expect(a.code, a.err).toBe(0);
    const rows2 = await dump(idx2);
    expect(rows2.slice(0, rows.length)).toEqual(rows);
    expect(new Set(rows2.map((r) => r.codes.join(','))).size).toBe(rows.length + 2);
    // explicit embeddings must have the encoder's input width
    const bad = path.join(root, 'bad.f32');
    writeFileSync(bad, encodeF32(new Float32Array(2 * 5).fill(0.5), 2, 5));
    const e = await run(['index', 'add', '--index', idx, '--items', newItems, '--embeddings', bad, '--out', path.join(root, 'idx3')]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/E_INPUT.*5 dimensions, this index's encoder takes 128/);

    const model = path.join(root, 'model');
    const t = await run(['train', '--data', data, '--index', idx2, '--out', model, '--arch', 'transformer', '--layers', '1', '--d-model', '16', '--heads', '2', '--epochs', '1', '--batch-size', '64', '--nproc', '1', '--threads', '1']);
    expect(t.code, t.err).toBe(0);
    const ev = await run(['eval', '--model', model, '--data', data, '--limit', '40', '--json']);
    expect(ev.code, ev.err).toBe(0);
    expect(JSON.parse(ev.out)).toMatchObject({ users: 40, invalidRate: 0 });
  }, 240_000);
});
