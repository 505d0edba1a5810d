/**
 * A bounded pool of float buffers for the tree-attention KV caches (onnx-tree.ts), so that
 * consecutive requests reuse the same memory instead of allocating ≈ 0.6 MB per request at the
 * Beauty shape and handing it back to the allocator a few milliseconds later — the churn that
 * made glibc trim and re-grow its heap and put page-fault bursts into the latency tail.
 *
 * `take(n)` hands out a view of exactly `n` floats over a pooled buffer of at least `n` (the
 * smallest free one that fits; a new one, rounded up to the next power of two, when none does),
 * so requests with different prompt lengths share buffers. `give(view)` returns the buffer under
 * a view this pool made; the free list holds at most `maxBytes` (further buffers are left to the
 * garbage collector). The contents of a taken float view are whatever was there before: callers
 * write what they read (the tree cache masks out every slot it has not written); int64 views (the
 * per-step attention masks, given back as soon as the graph call returns) come zeroed.
 */
export class KvPool {
  /** Free buffers, ascending by size. */
  private readonly free: ArrayBuffer[] = [];
  private freeBytes = 0;
  /** Views over this pool's buffers handed out and not yet given back (only those are taken back, once). */
  private readonly out = new WeakSet<Float32Array | BigInt64Array>();
  /** Views handed out so far. */
  taken = 0;
  /** Of those, the ones that needed a new buffer. */
  made = 0;

  /** @param maxBytes most bytes kept in the free list (0: a pool that never keeps anything). */
  constructor(readonly maxBytes: number) {}

  /** A view of `length` floats (contents undefined: not zeroed when reused). */
  take(length: number): Float32Array {
    return this.view(length, 4, (b, n) => new Float32Array(b, 0, n), (n) => new Float32Array(n));
  }

  /** A view of `length` int64s, all zero (attention masks). */
  takeInt64(length: number): BigInt64Array {
    return this.view(length, 8, (b, n) => new BigInt64Array(b, 0, n).fill(0n), (n) => new BigInt64Array(n));
  }

  private view<T extends Float32Array | BigInt64Array>(length: number, size: number, over: (b: ArrayBuffer, n: number) => T, fresh: (n: number) => T): T {
    const bytes = length * size;
    let view: T;
    this.taken++;
    const i = this.free.findIndex((b) => b.byteLength >= bytes);
    if (i >= 0) {
      const [buf] = this.free.splice(i, 1);
      this.freeBytes -= buf.byteLength;
      view = over(buf, length);
    } else if (this.maxBytes > 0) {
      const buf = new ArrayBuffer(Math.max(8, 2 ** Math.ceil(Math.log2(bytes))));
      this.made++;
      view = over(buf, length);
    } else {
      this.made++;
      return fresh(length);
    }
    this.out.add(view);
    return view;
  }

  /** Return a view's buffer to the pool (ignored for views this pool did not hand out, or gave back already). */
  give(view: Float32Array | BigInt64Array): void {
    if (!this.out.has(view)) return;
    this.out.delete(view);
    const buf = view.buffer as ArrayBuffer;
    if (this.freeBytes + buf.byteLength > this.maxBytes) return;
    let at = this.free.findIndex((b) => b.byteLength >= buf.byteLength);
    if (at < 0) at = this.free.length;
    this.free.splice(at, 0, buf);
    this.freeBytes += buf.byteLength;
  }

  /** Bytes held in the free list now. */
  get heldBytes(): number {
    return this.freeBytes;
  }
}

/** Default bound of a model's KV pool (the free list; buffers in use are not counted). */
export const KV_POOL_BYTES = 64 * 1024 * 1024;
