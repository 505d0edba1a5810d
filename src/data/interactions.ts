/**
 * The interactions of a raw dataset in typed arrays: user and item ids interned once (numbered in
 * order of first appearance), one Int32 user, one Int32 item and one Float64 timestamp per
 * interaction — 16 bytes each plus a 4-8-byte slot of the exact-repeat table, instead of an object
 * with three fields (and a string key for the repeat check). Loaders stream their input into it
 * line by line, and {@link prepare} (split.ts) groups, filters and splits on the numbers, so the
 * peak memory of `data prepare` / `data synth` grows with the interactions by these arrays, not by
 * objects.
 */

/** One user-item interaction. `timestamp` orders a user's history (ties keep input order). */
export interface Interaction {
  user: string;
  item: string;
  timestamp: number;
}

const INITIAL = 1024;

function grown<T extends Int32Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let n = a.length;
  while (n < need) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Interned strings: each distinct string once, numbered in order of first appearance. */
class Interner {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  id(s: string): number {
    let k = this.ids.get(s);
    if (k === undefined) {
      k = this.names.length;
      this.ids.set(s, k);
      this.names.push(s);
    }
    return k;
  }
}

/** An append-only, iterable log of interactions in typed arrays (see the file comment). */
export class InteractionLog implements Iterable<Interaction> {
  private readonly users = new Interner();
  private readonly items = new Interner();
  private u = new Int32Array(INITIAL);
  private i = new Int32Array(INITIAL);
  private t = new Float64Array(INITIAL);
  private n = 0;
  /** Open-addressing table of interaction index + 1 (0: empty) for the exact-repeat check. */
  private slots = new Int32Array(2 * INITIAL);
  private used = 0;

  /** A log holding `xs` in order (repeats kept, as in the array). */
  static from(xs: Iterable<Interaction>): InteractionLog {
    const log = new InteractionLog();
    for (const x of xs) log.push(x);
    return log;
  }

  /** Number of interactions. */
  get length(): number {
    return this.n;
  }

  /** Distinct users so far (user ids are 0 … userCount − 1). */
  get userCount(): number {
    return this.users.names.length;
  }

  /** Distinct items so far (item ids are 0 … itemCount − 1). */
  get itemCount(): number {
    return this.items.names.length;
  }

  /** The user id string of a user number. */
  userName(u: number): string {
    return this.users.names[u];
  }

  /** The item id string of an item number. */
  itemName(i: number): string {
    return this.items.names[i];
  }

  /** User number of interaction `k`. */
  userAt(k: number): number {
    return this.u[k];
  }

  /** Item number of interaction `k`. */
  itemAt(k: number): number {
    return this.i[k];
  }

  /** Timestamp of interaction `k`. */
  timeAt(k: number): number {
    return this.t[k];
  }

  /** Interaction `k` as an object. */
  at(k: number): Interaction {
    return { user: this.users.names[this.u[k]], item: this.items.names[this.i[k]], timestamp: this.t[k] };
  }

  *[Symbol.iterator](): Iterator<Interaction> {
    for (let k = 0; k < this.n; k++) yield this.at(k);
  }

  /** Append an interaction (a repeat of an earlier one is kept: see {@link pushUnique}). */
  push(x: Interaction): void {
    this.append(this.users.id(x.user), this.items.id(x.item), x.timestamp);
  }

  /**
   * Append an interaction unless the same user, item and timestamp is already in the log (then
   * nothing is added and `false` is returned). Exact, through a hash table of interaction indices.
   */
  pushUnique(x: Interaction): boolean {
    const u = this.users.id(x.user);
    const i = this.items.id(x.item);
    const t = x.timestamp === 0 ? 0 : x.timestamp; // -0 is 0, as in a key written as text
    if (2 * (this.used + 1) > this.slots.length) this.rehash(2 * this.slots.length);
    const mask = this.slots.length - 1;
    let s = hash3(u, i, t) & mask;
    for (;;) {
      const k = this.slots[s] - 1;
      if (k < 0) break;
      if (this.u[k] === u && this.i[k] === i && this.t[k] === t) return false;
      s = (s + 1) & mask;
    }
    this.slots[s] = this.n + 1;
    this.used++;
    this.append(u, i, t);
    return true;
  }

  private append(u: number, i: number, t: number): void {
    const need = this.n + 1;
    this.u = grown(this.u, need);
    this.i = grown(this.i, need);
    this.t = grown(this.t, need);
    this.u[this.n] = u;
    this.i[this.n] = i;
    this.t[this.n] = t;
    this.n++;
  }

  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(size);
    const mask = size - 1;
    for (const v of old) {
      if (v === 0) continue;
      const k = v - 1;
      let s = hash3(this.u[k], this.i[k], this.t[k]) & mask;
      while (this.slots[s] !== 0) s = (s + 1) & mask;
      this.slots[s] = v;
    }
  }
}

const f64 = new Float64Array(1);
const w32 = new Int32Array(f64.buffer);

/** A 32-bit mix of (user, item, timestamp) for the repeat table. */
function hash3(u: number, i: number, t: number): number {
  f64[0] = t;
  let h = Math.imul(u ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ i, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ w32[0], 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ w32[1], 0x165667b1);
  return (h ^ (h >>> 16)) >>> 0;
}
