/**
 * What one shard of an evaluation is (the users it scores) and what it keeps for the merge — the
 * part of sharding the evaluator itself needs (merging and the file format: shard.ts).
 */
import { InputError } from '../errors.js';

/** One shard of `count` (index 0-based). */
export interface ShardSpec {
  index: number;
  count: number;
}

/** One ranker's share of a sharded evaluation. */
export interface RankerShard {
  name: string;
  /** Per user of the shard (shard order): the target's 0-based position in the de-duplicated list, −1 if absent. */
  ranks0: number[];
  /** Distinct items of the shard's top-10 lists (sorted), and the catalogue size coverage divides by. */
  covered: string[];
  catalogue: number;
  /** Returned ids that are not items of the catalogue, and all returned ids. */
  invalid: number;
  returned: number;
  /** Per-request latencies (ms) and the shard's wall time. */
  latencies: number[];
  seconds: number;
}

/** The shard's share of a list: positions index, index + count, … */
export function shardOf<T>(items: readonly T[], s: ShardSpec): T[] {
  if (!(Number.isInteger(s.count) && s.count >= 1 && Number.isInteger(s.index) && s.index >= 0 && s.index < s.count)) throw new InputError(`shard must have 0 ≤ index < count, got ${s.index}/${s.count}`, { param: 'shard' });
  const out: T[] = [];
  for (let i = s.index; i < items.length; i += s.count) out.push(items[i]);
  return out;
}
