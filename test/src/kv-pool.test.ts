import { describe, expect, it } from 'vitest';
import { KvPool } from '../../src/serving/model/kv-pool.js';

describe('KvPool', () => {
  it('hands out views of exactly the asked length and reuses given-back buffers (smallest that fits)', () => {
    const pool = new KvPool(1 << 20);
    const a = pool.take(1000);
    const b = pool.take(3000);
    expect([a.length, b.length]).toEqual([1000, 3000]);
    expect(a.buffer.byteLength).toBe(4096); // rounded up to a power of two
    a.fill(7);
    pool.give(a);
    pool.give(b);
    expect(pool.heldBytes).toBe(4096 + 16384);
    const c = pool.take(900); // fits the 4 KB buffer, not the 16 KB one
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(900);
    expect(c[0]).toBe(7); // not zeroed: callers write what they read
    const d = pool.take(2000); // only the 16 KB one is left
    expect(d.buffer).toBe(b.buffer);
    expect(pool.heldBytes).toBe(0);
    expect([pool.taken, pool.made]).toEqual([4, 2]);
  });

  it('ignores a second give of a view and views it did not make; keeps at most maxBytes', () => {
    const pool = new KvPool(8192);
    const a = pool.take(1024); // 4 KB
    pool.give(a);
    pool.give(a);
    expect(pool.heldBytes).toBe(4096);
    pool.give(new Float32Array(1024));
    expect(pool.heldBytes).toBe(4096);
    const b = pool.take(2000); // 8 KB, new
    const c = pool.take(10); // the 4 KB one
    expect(c.buffer).toBe(a.buffer);
    pool.give(b);
    pool.give(c); // 8 + 4 KB > 8 KB: left to the garbage collector
    expect(pool.heldBytes).toBe(8192);
  });

  it('int64 views (masks) come zeroed, also over a buffer a float view dirtied', () => {
    const pool = new KvPool(1 << 20);
    const f = pool.take(512);
    f.fill(3.5);
    pool.give(f);
    const m = pool.takeInt64(200); // 1,600 bytes fit the 2 KB buffer
    expect(m.buffer).toBe(f.buffer);
    expect(m.length).toBe(200);
    expect(m.every((x) => x === 0n)).toBe(true);
    m.fill(1n);
    pool.give(m);
    expect(pool.takeInt64(256).every((x) => x === 0n)).toBe(true);
  });

  it('with maxBytes 0 keeps nothing and allocates every view afresh', () => {
    const pool = new KvPool(0);
    const a = pool.take(100);
    pool.give(a);
    expect(pool.heldBytes).toBe(0);
    expect(pool.take(100).buffer).not.toBe(a.buffer);
    expect(pool.made).toBe(2);
  });
});
