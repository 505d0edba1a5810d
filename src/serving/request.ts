/**
 * A history as a beam-search request — the one place where item ids become index rows, a prompt
 * and the rows never to return. `Recommender.recommend` and the evaluator that scores validation
 * choices (eval/decode.ts) both build their requests here, so a model is chosen on exactly the
 * requests it will serve.
 */
import type { BeamRequest } from '../../decoding/index.js';
import type { ItemIndex } from '../../quantizer/index.js';

/** A history (item ids, oldest first) as index rows; ids the index does not know are `skipped`. */
export function historyRows(index: ItemIndex, ids: readonly string[]): { rows: number[]; skipped: string[] } {
  const rows: number[] = [];
  const skipped: string[] = [];
  for (const id of ids) {
    const r = index.rowOf(id);
    if (r === undefined) skipped.push(id);
    else rows.push(r);
  }
  return { rows, skipped };
}

/**
 * The beam-search request of a history's rows: its prompt, and what is never returned — the
 * history's own rows when `excludeSeen`, plus `deny`; `allow` restricts the candidates.
 */
export function beamRequestOf(rows: readonly number[], prompt: Int32Array, opts: { excludeSeen?: boolean; deny?: readonly number[]; allow?: readonly number[] } = {}): BeamRequest {
  const exclude = opts.excludeSeen ? (opts.deny ? [...rows, ...opts.deny] : rows) : opts.deny;
  return { prompt, exclude, include: opts.allow };
}
