/**
 * RecommenderSlot: a swappable holder of a loaded {@link Recommender}, for services that replace
 * the model or index while serving (the HTTP server uses it; library users can too).
 *
 *   const slot = await RecommenderSlot.open(() => Recommender.load('model/'));
 *   const res = await slot.recommend(history, { k: 10 });   // on whatever is current
 *   await slot.reload();                                     // load + verify off the request path, then switch
 *
 * A reload loads the new model and index beside the old ones, verifies them (loading checks
 * checksums and the model ↔ index lineage; then one real recommendation must come back), and only
 * then switches atomically. Requests already running finish on the generation they started on;
 * the old generation is closed (its onnxruntime session released) when its last request is done.
 * A failed reload changes nothing: the old generation keeps serving and the error is thrown.
 * Reloads are serialised: a reload asked while one runs waits for it and then runs. A reload with
 * a deadline (`timeoutMs`) that does not finish in time is abandoned and reported (E_TIMEOUT): the
 * next reload and close() never wait for it, and what it loads late is released.
 */
import type { Recommender, RecommendOptions, RecommendResult } from './recommender.js';
import { SemrecError, UnavailableError } from '../errors.js';

/** One loaded model + index. */
export interface Generation {
  /** 1 for the first load, +1 for every successful reload. */
  readonly id: number;
  readonly recommender: Recommender;
  readonly loadedAt: Date;
}

/** How to load a Recommender (called at open and at every reload). */
export type RecommenderLoader = () => Promise<Recommender>;

/** The slot was closed: no more requests are taken. */
export class SlotClosedError extends UnavailableError {
  constructor() {
    super('E_CLOSED', 'the recommender is shutting down');
  }
}

/** Check a freshly loaded Recommender before it serves: one real request must give real items. */
export async function smokeTest(rec: Recommender): Promise<void> {
  const live = rec.trie;
  if (live.numItems === 0) throw new SemrecError('E_MODEL', 'the index has no live item to recommend');
  const first = rec.index.itemIds[live.leafRow[0]];
  const res = await rec.recommend([first], { k: 1 });
  const got = res.items[0];
  if (!got || rec.index.codeOf(got.itemId)?.join() !== got.codes.join()) throw new SemrecError('E_MODEL', 'verification failed: a test recommendation did not return a real item');
}

/**
 * `attempt`'s result, or E_TIMEOUT after `ms`; an attempt that finishes after its deadline is
 * closed (it was abandoned: nobody will serve it).
 */
function abandonAfter(attempt: Promise<Recommender>, ms: number): Promise<Recommender> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  attempt.then((r) => (late ? r.close() : undefined), () => undefined).catch(() => undefined);
  return Promise.race([
    attempt,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new UnavailableError('E_TIMEOUT', `the reload did not finish within ${ms} ms and was abandoned; the previous model keeps serving`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class RecommenderSlot {
  private gen: Generation;
  private readonly leases = new Map<Generation, number>();
  private readonly retiring = new Set<Generation>();
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private reloads = 0;

  private constructor(
    private loader: RecommenderLoader,
    first: Recommender,
    private readonly verify: (rec: Recommender) => Promise<void>,
  ) {
    this.gen = { id: 1, recommender: first, loadedAt: new Date() };
  }

  /**
   * Load the first generation. `verify` (default {@link smokeTest}) runs on every load before the
   * generation may serve.
   */
  static async open(loader: RecommenderLoader, opts: { verify?: (rec: Recommender) => Promise<void> } = {}): Promise<RecommenderSlot> {
    const verify = opts.verify ?? smokeTest;
    const rec = await loader();
    try {
      await verify(rec);
    } catch (err) {
      await rec.close();
      throw err;
    }
    return new RecommenderSlot(loader, rec, verify);
  }

  /** The generation that new requests use. */
  get current(): Generation {
    return this.gen;
  }

  /** Successful reloads so far. */
  get reloadCount(): number {
    return this.reloads;
  }

  /** Requests running now, over all generations. */
  get inFlight(): number {
    let n = 0;
    for (const v of this.leases.values()) n += v;
    return n;
  }

  /**
   * Run `fn` on the current generation; a reload during `fn` does not affect it (the generation
   * is closed only after `fn` settles).
   */
  async use<T>(fn: (rec: Recommender, gen: Generation) => Promise<T>): Promise<T> {
    if (this.closed) throw new SlotClosedError();
    const g = this.gen;
    this.leases.set(g, (this.leases.get(g) ?? 0) + 1);
    try {
      return await fn(g.recommender, g);
    } finally {
      const left = this.leases.get(g)! - 1;
      if (left === 0) this.leases.delete(g);
      else this.leases.set(g, left);
      if (left === 0 && this.retiring.has(g)) void this.dispose(g);
    }
  }

  /** {@link Recommender.recommend} on the current generation (plus which generation answered). */
  recommend(history: readonly string[], opts?: RecommendOptions): Promise<RecommendResult & { generation: number }> {
    return this.use(async (rec, g) => ({ ...(await rec.recommend(history, opts)), generation: g.id }));
  }

  /**
   * Load a new generation (with `loader`, which then replaces the slot's loader; default: the
   * slot's loader again, e.g. the same directories after they were replaced), verify it, and
   * switch. Throws, and keeps the current generation, if loading or verification fails.
   */
  reload(loader?: RecommenderLoader, opts: { timeoutMs?: number } = {}): Promise<Generation> {
    const run = async (): Promise<Generation> => {
      if (this.closed) throw new SlotClosedError();
      const load = loader ?? this.loader;
      const attempt = (async () => {
        const r = await load();
        try {
          await this.verify(r);
        } catch (err) {
          await r.close();
          throw err;
        }
        return r;
      })();
      const rec = opts.timeoutMs === undefined ? await attempt : await abandonAfter(attempt, opts.timeoutMs);
      if (this.closed) {
        await rec.close();
        throw new SlotClosedError();
      }
      const old = this.gen;
      this.gen = { id: old.id + 1, recommender: rec, loadedAt: new Date() };
      this.loader = load;
      this.reloads++;
      this.retire(old);
      return this.gen;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Stop taking requests, wait for running ones, release every generation. A reload still running
   * is not waited for: it sees the slot closed when it finishes and releases what it loaded.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retire(this.gen);
    while (this.retiring.size) await new Promise((r) => setTimeout(r, 5));
  }

  private retire(g: Generation): void {
    this.retiring.add(g);
    if (!this.leases.has(g)) void this.dispose(g);
  }

  private async dispose(g: Generation): Promise<void> {
    if (!this.retiring.delete(g)) return;
    await g.recommender.close().catch(() => undefined);
  }
}
