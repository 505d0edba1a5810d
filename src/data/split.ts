/**
 * From raw interactions to the evaluation protocol of the literature (TIGER, P5, RecBole):
 * chronological user sequences, iterative k-core filtering, and the leave-one-out split
 * (last item = test target, second-to-last = validation target, history capped at `maxHistory`).
 */
import { DataError } from '../errors.js';
import type { Interaction, Item, RawDataset } from './types.js';
import { InteractionLog } from './interactions.js';

/** A user's chronological item sequence. */
export interface UserSequence {
  user: string;
  items: string[];
  /** Timestamps aligned with `items` (absent when the source has none to keep). */
  times?: number[];
}

/** One evaluation example: predict `target` from `history` (oldest first, at most maxHistory). */
export interface EvalExample {
  user: string;
  history: string[];
  target: string;
}

/** The leave-one-out split. */
export interface Split {
  /** Training sequences: each user's items except the last two. */
  train: UserSequence[];
  /** History = train sequence (capped), target = second-to-last item. */
  valid: EvalExample[];
  /** History = everything but the last item (capped), target = last item. */
  test: EvalExample[];
}

/** Options for {@link prepare}. */
export interface PrepareOptions {
  /** Minimum interactions per user and per item (iterative k-core). 0 or 1 disables. Default 5. */
  core?: number;
  /** Cap on history length in valid/test examples. Default 20. */
  maxHistory?: number;
}

/** Counts reported after preparation. */
export interface DatasetCounts {
  users: number;
  items: number;
  interactions: number;
  /** Mean interactions per user. */
  avgHistory: number;
  /** Items that have no title in the source metadata. */
  itemsWithoutTitle: number;
}

/** A filtered, split dataset ready to be written. */
export interface PreparedDataset {
  source: string;
  items: Item[];
  sequences: UserSequence[];
  split: Split;
  counts: DatasetCounts;
  core: number;
  maxHistory: number;
}

/**
 * The readable reference of {@link coreSequences}' first step (prepare uses the typed version;
 * test/src/data/interactions.test.ts checks the two agree). Sort each user's interactions by timestamp (stable: ties keep input order) and group them.
 * Users come out in order of first appearance in the input.
 */
export function toSequences(interactions: readonly Interaction[]): UserSequence[] {
  const byUser = new Map<string, number[]>();
  interactions.forEach((it, idx) => {
    let l = byUser.get(it.user);
    if (!l) byUser.set(it.user, (l = []));
    l.push(idx);
  });
  const out: UserSequence[] = [];
  for (const [user, idxs] of byUser) {
    idxs.sort((a, b) => interactions[a].timestamp - interactions[b].timestamp || a - b);
    out.push({ user, items: idxs.map((i) => interactions[i].item), times: idxs.map((i) => interactions[i].timestamp) });
  }
  return out;
}

/**
 * The readable reference of {@link coreSequences}' k-core (prepare uses the typed version). Iterative k-core filtering: repeatedly drop users with fewer than `k` interactions and items
 * with fewer than `k` interactions until every remaining user and item has at least `k`.
 * Order within sequences is preserved; users left empty are dropped.
 */
export function kCore(sequences: readonly UserSequence[], k: number): UserSequence[] {
  let seqs: UserSequence[] = sequences.map((s) => ({ ...s }));
  if (k <= 1) return seqs.filter((s) => s.items.length > 0);
  for (;;) {
    const itemCount = new Map<string, number>();
    for (const s of seqs) for (const it of s.items) itemCount.set(it, (itemCount.get(it) ?? 0) + 1);
    let changed = false;
    const next: UserSequence[] = [];
    for (const s of seqs) {
      const keep = s.items.map((it) => (itemCount.get(it) ?? 0) >= k);
      const kept = s.items.filter((_, i) => keep[i]);
      if (kept.length !== s.items.length) changed = true;
      if (kept.length >= k) next.push({ user: s.user, items: kept, times: s.times?.filter((_, i) => keep[i]) });
      else changed = true;
    }
    seqs = next;
    if (!changed) return seqs;
  }
}

/**
 * Leave-one-out split. Users with fewer than 3 items cannot be split and are rejected with a
 * {@link DataError} (k-core with k ≥ 3 guarantees none remain).
 */
export function leaveOneOut(sequences: readonly UserSequence[], maxHistory = 20): Split {
  if (!Number.isInteger(maxHistory) || maxHistory < 1) throw new DataError(`maxHistory must be a positive integer, got ${maxHistory}`);
  const split: Split = { train: [], valid: [], test: [] };
  for (const s of sequences) {
    const n = s.items.length;
    if (n < 3) throw new DataError(`user ${s.user} has ${n} item(s); leave-one-out needs at least 3`);
    const train = s.items.slice(0, n - 2);
    split.train.push({ user: s.user, items: train });
    split.valid.push({ user: s.user, history: train.slice(-maxHistory), target: s.items[n - 2] });
    split.test.push({ user: s.user, history: s.items.slice(Math.max(0, n - 1 - maxHistory), n - 1), target: s.items[n - 1] });
  }
  return split;
}

/**
 * {@link toSequences} then {@link kCore} then "at least `minLen` items", on the log's numbers:
 * users grouped by a counting sort (first-appearance order), each user's interactions sorted by
 * time (ties: input order), the k-core computed on typed arrays; objects are made only for the
 * sequences that remain. Equal to the object version (tested against it on random logs).
 */
export function coreSequences(log: InteractionLog, core: number, minLen: number): UserSequence[] {
  const n = log.length;
  const users = log.userCount;
  const start = new Int32Array(users + 1);
  for (let k = 0; k < n; k++) start[log.userAt(k) + 1]++;
  for (let u = 0; u < users; u++) start[u + 1] += start[u];
  const order = new Int32Array(n);
  const fill = start.slice(0, users);
  for (let k = 0; k < n; k++) order[fill[log.userAt(k)]++] = k;
  for (let u = 0; u < users; u++) {
    const slice = order.subarray(start[u], start[u + 1]);
    let sorted = true;
    for (let p = 1; p < slice.length && sorted; p++) sorted = log.timeAt(slice[p - 1]) <= log.timeAt(slice[p]);
    if (!sorted) slice.sort((a, b) => log.timeAt(a) - log.timeAt(b) || a - b);
  }
  // alive[p]: position p of `order` is kept; len[u]: items kept for user u (0: user dropped)
  const alive = new Uint8Array(n).fill(1);
  const len = new Int32Array(users);
  for (let u = 0; u < users; u++) len[u] = start[u + 1] - start[u];
  if (core > 1) {
    const count = new Int32Array(log.itemCount);
    for (;;) {
      count.fill(0);
      for (let p = 0; p < n; p++) if (alive[p]) count[log.itemAt(order[p])]++;
      let changed = false;
      for (let u = 0; u < users; u++) {
        if (len[u] === 0) continue;
        let kept = 0;
        for (let p = start[u]; p < start[u + 1]; p++) if (alive[p] && count[log.itemAt(order[p])] >= core) kept++;
        if (kept !== len[u]) changed = true;
        const keepUser = kept >= core;
        for (let p = start[u]; p < start[u + 1]; p++) if (alive[p] && (!keepUser || count[log.itemAt(order[p])] < core)) alive[p] = 0;
        len[u] = keepUser ? kept : 0;
        if (!keepUser) changed = true;
      }
      if (!changed) break;
    }
  }
  const out: UserSequence[] = [];
  for (let u = 0; u < users; u++) {
    if (len[u] === 0 || len[u] < minLen) continue;
    const items: string[] = new Array(len[u]);
    const times: number[] = new Array(len[u]);
    let j = 0;
    for (let p = start[u]; p < start[u + 1]; p++) {
      if (!alive[p]) continue;
      items[j] = log.itemName(log.itemAt(order[p]));
      times[j++] = log.timeAt(order[p]);
    }
    out.push({ user: log.userName(u), items, times });
  }
  return out;
}

/**
 * Full preparation: sequences → k-core → split. Items referenced by interactions but missing from
 * the metadata get a placeholder (title '', text = id) and are counted in `itemsWithoutTitle`.
 */
export function prepare(raw: RawDataset, opts: PrepareOptions = {}): PreparedDataset {
  const core = opts.core ?? 5;
  const maxHistory = opts.maxHistory ?? 20;
  if (!Number.isInteger(core) || core < 0) throw new DataError(`core must be a non-negative integer, got ${core}`);
  if (raw.interactions.length === 0) throw new DataError(`${raw.source}: no valid interactions in the input`);
  const minLen = Math.max(core, 3);
  const log = raw.interactions instanceof InteractionLog ? raw.interactions : InteractionLog.from(raw.interactions);
  const sequences = coreSequences(log, core, minLen);
  if (sequences.length === 0) {
    throw new DataError(`${raw.source}: nothing left after ${core}-core filtering (${raw.interactions.length} interactions in)`);
  }
  const used = new Set<string>();
  let interactions = 0;
  for (const s of sequences) {
    interactions += s.items.length;
    for (const it of s.items) used.add(it);
  }
  const items: Item[] = [...used].sort().map((id) => raw.items.get(id) ?? { id, title: '', text: id });
  const itemsWithoutTitle = items.filter((it) => !it.title).length;
  return {
    source: raw.source,
    items,
    sequences,
    split: leaveOneOut(sequences, maxHistory),
    counts: {
      users: sequences.length,
      items: items.length,
      interactions,
      avgHistory: interactions / sequences.length,
      itemsWithoutTitle,
    },
    core,
    maxHistory,
  };
}
