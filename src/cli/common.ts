/** Helpers shared by CLI commands. */
import { InputError } from '../errors.js';
import type { DatasetMeta } from '../data/store.js';

/** Parse an integer option, with a typed error naming the flag. */
export function intOpt(flag: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InputError(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** Parse a float option in [lo, hi]. */
export function floatOpt(flag: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new InputError(`${flag} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return n;
}

/** Human-readable summary of a written dataset. */
export function describeDataset(dir: string, meta: DatasetMeta): string {
  const c = meta.counts;
  const lines = [
    `dataset ${dir} (${meta.source}, ${meta.core}-core, leave-one-out, history ≤ ${meta.split.maxHistory})`,
    `  users        ${c.users}`,
    `  items        ${c.items}${c.itemsWithoutTitle ? ` (${c.itemsWithoutTitle} without title)` : ''}`,
    `  interactions ${c.interactions}`,
    `  avg history  ${c.avgHistory.toFixed(2)}`,
  ];
  if (meta.malformed.count) {
    lines.push(`  malformed    ${meta.malformed.count} line(s) skipped, e.g.:`);
    for (const m of meta.malformed.examples.slice(0, 10)) lines.push(`    ${m.file}:${m.line}: ${m.reason}`);
  }
  return lines.join('\n');
}
