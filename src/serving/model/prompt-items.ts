/**
 * What the models that condition on items rather than tokens (the transition model, SASRec's
 * item-score model) share: the items of a canonical ID prompt (BOS, then each history item's
 * tuple), and their decoding state's walk down the trie (one node per row).
 */
import type { PrefixTrie, TokenLayout } from '../../../decoding/index.js';

/**
 * Rows of the prompt's last `count` complete item tuples, most recent first. A tuple that is no
 * live item of the trie is looked up with `rowOfCodes` (retired items keep conditioning) and is
 * −1 when unknown; tokens that do not form a tuple are skipped.
 */
export function promptItemRows(prompt: Int32Array, count: number, trie: PrefixTrie, layout: TokenLayout, rowOfCodes?: (codes: ArrayLike<number>) => number): number[] {
  const L = trie.levels;
  const out: number[] = [];
  let end = prompt.length;
  while (end >= L && out.length < count) {
    const codes: number[] = [];
    for (let l = 0; l < L; l++) {
      const d = layout.decode(prompt[end - L + l]);
      if (!d || d.level !== l) break;
      codes.push(d.code);
    }
    if (codes.length < L) {
      end--;
      continue;
    }
    const leaf = trie.find(codes);
    out.push(leaf >= 0 ? trie.rowOfLeaf(leaf) : rowOfCodes ? rowOfCodes(codes) : -1);
    end -= L;
  }
  return out;
}

/** Each row's trie node after appending `tokens[r]` (−1: off the trie, or already off it). */
export function advanceNodes(trie: PrefixTrie, layout: TokenLayout, nodes: Int32Array, tokens: Int32Array): Int32Array {
  const next = new Int32Array(nodes.length);
  for (let r = 0; r < next.length; r++) {
    const d = layout.decode(tokens[r]);
    next[r] = d && nodes[r] >= 0 ? trie.child(nodes[r], d.code) : -1;
  }
  return next;
}

/** Row `index[i]` of a per-row array, for each i (a decoding state's reorder). */
export function pickRows(a: Int32Array, index: Int32Array): Int32Array {
  return Int32Array.from(index, (i) => a[i]);
}
