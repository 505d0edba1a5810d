/** `random:LxK` — random collision-free tuples (the baseline with no information in the IDs). */
import { collisionReport } from '../collisions.js';
import { Rng } from '../core/index.js';
import { assignRandomFree, checkCapacity } from './common.js';
import type { IndexingScheme } from './scheme.js';

export const randomScheme: IndexingScheme = {
  name: 'random',
  description: 'random collision-free tuples',
  build(input, ctx) {
    const { sizes } = ctx;
    const n = input.ids.length;
    checkCapacity(ctx.factory, sizes, n);
    const rng = new Rng(ctx.seed);
    const codes = new Uint16Array(n * sizes.length);
    const used = new Set<string>();
    for (let i = 0; i < n; i++) {
      for (;;) {
        for (let l = 0; l < sizes.length; l++) codes[i * sizes.length + l] = rng.int(sizes[l]);
        const key = codes.subarray(i * sizes.length, (i + 1) * sizes.length).join(',');
        if (!used.has(key)) {
          used.add(key);
          break;
        }
      }
    }
    return { codes, sizes, collisions: 'none', dim: 0, params: {}, report: collisionReport(codes, n, sizes.length) };
  },
  assign: assignRandomFree,
};
