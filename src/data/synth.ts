/**
 * Deterministic synthetic catalogue and users (the embedded default data; no downloads).
 *
 * Items are generated from latent attributes — department → sub-category → leaf product type,
 * brand (with a price tier and home departments), attribute words — and rendered as realistic text
 * (title, brand, category path, description). Users have latent tastes (favourite sub-categories,
 * brands, price tier) and their histories mix two signals:
 *   - content: fresh picks follow the user's tastes, so items with similar text co-occur;
 *   - sequence: with probability `sequential`, the next item is the *next step of a routine*
 *     (the following leaf in the sub-category chain, e.g. cleanser → toner → serum), preferably of
 *     the same brand — a pattern only a sequence model can exploit.
 * Same seed and sizes → byte-identical output.
 */
import { Rng } from '../../quantizer/core/index.js';
import { InputError } from '../errors.js';
import { BRAND_SYLLABLES, DEPARTMENTS, TIERS } from './synth-vocab.js';
import type { Item, RawDataset } from './types.js';
import { makeItem } from './loaders/common.js';
import { LeafSampler } from './leaf-sampler.js';
import { InteractionLog } from './interactions.js';

/** Options for {@link synthesize}. */
export interface SynthOptions {
  /** Number of items (default 2000). */
  items?: number;
  /** Number of users (default 5000). */
  users?: number;
  /** Seed (default 42). */
  seed?: number;
  /** Probability that the next item continues a routine (default 0.5). */
  sequential?: number;
  /** Mean extra history length beyond the minimum of 5 (default 7). */
  meanExtraHistory?: number;
}

interface Leaf {
  dept: number;
  sub: string;
  /** Index of this leaf in its sub-category chain. */
  pos: number;
  noun: string;
  price: number;
  /** Global index of the next leaf in the chain, or -1 at the end. */
  next: number;
  /** Index of the sub-category (global). */
  subIdx: number;
}

interface Brand {
  name: string;
  tier: number;
  depts: number[];
}

interface SynthItem {
  leaf: number;
  brand: number;
  pop: number;
}

/**
 * A new brand name of 2-3 syllables (24² + 24³ ≈ 14k of them), or of 4-5 once 12,000 names are
 * used or 1,000 draws in a row were taken: a catalogue of more than ≈ 300k items (one brand per 25
 * items) needs more brands than 2-3 syllables make — it used to loop for ever. Smaller catalogues
 * never get there, so their names, and datasets, are unchanged.
 */
export function brandName(rng: Rng, used: Set<string>): string {
  for (let failures = 0; ; failures++) {
    const n = used.size < 12_000 && failures < 1000 ? 2 + rng.int(2) : 4 + rng.int(2);
    let s = '';
    for (let i = 0; i < n; i++) s += rng.pick(BRAND_SYLLABLES);
    s = s[0].toUpperCase() + s.slice(1);
    if (!used.has(s)) {
      used.add(s);
      return s;
    }
  }
}

/** Largest synthetic catalogue (items): beyond it the generator's arrays outgrow a 24 GB machine. */
export const MAX_SYNTH_ITEMS = 10_000_000;
/** Most synthetic users. */
export const MAX_SYNTH_USERS = 20_000_000;

/** Generate the synthetic raw dataset (items with text + timestamped interactions). */
export function synthesize(opts: SynthOptions = {}): RawDataset {
  const nItems = opts.items ?? 2000;
  const nUsers = opts.users ?? 5000;
  const seed = opts.seed ?? 42;
  const pSeq = opts.sequential ?? 0.5;
  const meanExtra = opts.meanExtraHistory ?? 7;
  if (!Number.isInteger(nItems) || nItems < 10 || nItems > MAX_SYNTH_ITEMS) throw new InputError(`items must be an integer in [10, ${MAX_SYNTH_ITEMS}], got ${nItems}`, { param: 'items' });
  if (!Number.isInteger(nUsers) || nUsers < 1 || nUsers > MAX_SYNTH_USERS) throw new InputError(`users must be an integer in [1, ${MAX_SYNTH_USERS}], got ${nUsers}`, { param: 'users' });
  if (!(pSeq >= 0 && pSeq <= 1)) throw new InputError(`sequential must be in [0, 1], got ${pSeq}`);
  const rng = new Rng(seed);

  // ---- leaves (global), chained within each sub-category
  const leaves: Leaf[] = [];
  const subs: { dept: number; name: string; leaves: number[] }[] = [];
  DEPARTMENTS.forEach((d, di) => {
    for (const [sub, chain] of Object.entries(d.subs)) {
      const subIdx = subs.length;
      const ids: number[] = [];
      chain.forEach(([noun, price], pos) => {
        ids.push(leaves.length);
        leaves.push({ dept: di, sub, pos, noun, price, next: -1, subIdx });
      });
      for (let i = 0; i + 1 < ids.length; i++) leaves[ids[i]].next = ids[i + 1];
      subs.push({ dept: di, name: sub, leaves: ids });
    }
  });

  // ---- brands: ~1 per 25 items, each with 1-2 home departments and a price tier
  const nBrands = Math.max(8, Math.round(nItems / 25));
  const usedNames = new Set<string>();
  const brands: Brand[] = [];
  for (let b = 0; b < nBrands; b++) {
    const d0 = b % DEPARTMENTS.length;
    const depts = rng.next() < 0.3 ? [d0, (d0 + 1 + rng.int(DEPARTMENTS.length - 1)) % DEPARTMENTS.length] : [d0];
    brands.push({ name: brandName(rng, usedNames), tier: rng.int(TIERS.length), depts });
  }
  const brandsOfDept: number[][] = DEPARTMENTS.map(() => []);
  brands.forEach((b, bi) => b.depts.forEach((d) => brandsOfDept[d].push(bi)));

  // ---- items: leaf by Zipf-ish leaf weight, brand from the leaf's department
  const leafWeight = leaves.map(() => 0.3 + rng.next());
  const items: SynthItem[] = [];
  const itemsOfLeaf: number[][] = leaves.map(() => []);
  const catalogue = new Map<string, Item>();
  const seenTitles = new Set<string>();
  for (let i = 0; i < nItems; i++) {
    const leaf = i < leaves.length ? i : rng.weighted(leafWeight);
    const L = leaves[leaf];
    const dept = DEPARTMENTS[L.dept];
    const brand = rng.pick(brandsOfDept[L.dept]);
    const B = brands[brand];
    const tier = TIERS[B.tier];
    const pop = 1 / Math.pow(1 + rng.int(nItems), 0.6); // heavy-tailed popularity
    const id = `P${String(i + 1).padStart(5, '0')}`;
    let title = '';
    for (let tries = 0; tries < 20; tries++) {
      const attr = rng.pick(dept.attributes);
      const adj = rng.next() < 0.5 ? rng.pick(dept.adjectives) + ' ' : '';
      const line = rng.next() < 0.35 ? rng.pick(tier.words) + ' ' : '';
      title = `${B.name} ${line}${adj}${attr} ${L.noun}, ${rng.pick(dept.sizes)}`;
      if (!seenTitles.has(title)) break;
    }
    seenTitles.add(title);
    const b1 = rng.pick(dept.benefits);
    let b2 = rng.pick(dept.benefits);
    if (b2 === b1) b2 = dept.benefits[(dept.benefits.indexOf(b1) + 1) % dept.benefits.length];
    const description =
      `This ${L.noun.toLowerCase()} from ${B.name} ${b1} and ${b2}. ` +
      `Part of the ${B.name} ${L.sub.toLowerCase()} line; pairs well with the next step of your ${L.sub.toLowerCase()} routine.`;
    const price = Math.round(L.price * tier.mult * (0.8 + 0.4 * rng.next()) * 100) / 100;
    catalogue.set(id, makeItem(id, { title, brand: B.name, categories: [dept.name, L.sub, L.noun], description, price }));
    items.push({ leaf, brand, pop });
    itemsOfLeaf[leaf].push(i);
  }
  const ids = [...catalogue.keys()];

  // ---- users
  const sampler = new LeafSampler(
    itemsOfLeaf,
    items.map((it) => it.brand),
    items.map((it) => it.pop),
    brands.map((b) => b.tier),
    TIERS.length,
  );
  const subsOfDept: number[][] = DEPARTMENTS.map((_, di) => subs.flatMap((s, si) => (s.dept === di ? [si] : [])));
  const interactions = new InteractionLog();
  const T0 = 1_400_000_000; // 2014-05-13, seconds
  for (let u = 0; u < nUsers; u++) {
    const user = `U${String(u + 1).padStart(6, '0')}`;
    const favSubSet = [rng.int(subs.length)];
    if (rng.next() < 0.6) {
      // A second interest, usually in the same department.
      const sameDept = subsOfDept[subs[favSubSet[0]].dept];
      favSubSet.push(rng.next() < 0.7 ? rng.pick(sameDept) : rng.int(subs.length));
    }
    const tier = rng.int(TIERS.length);
    const favBrands = new Set<number>();
    for (const s of favSubSet) {
      const cand = brandsOfDept[subs[s].dept];
      favBrands.add(rng.pick(cand));
      if (rng.next() < 0.5) favBrands.add(rng.pick(cand));
    }
    let len = 5;
    while (len < 60 && rng.next() < meanExtra / (meanExtra + 1)) len++;
    const hist: number[] = [];
    const seen = new Set<number>();
    let t = T0 + rng.int(200 * 86400);
    const taste = { favBrands, tier };
    const fromLeaf = (leaf: number, preferBrand?: number): number => sampler.draw(rng, leaf, taste, seen, preferBrand);
    let guard = 0;
    while (hist.length < len && guard++ < len * 10) {
      let next = -1;
      const last = hist.length ? items[hist[hist.length - 1]] : undefined;
      if (last && rng.next() < pSeq && leaves[last.leaf].next >= 0) {
        next = fromLeaf(leaves[last.leaf].next, last.brand);
      }
      if (next < 0) {
        const sub = rng.next() < 0.85 ? rng.pick(favSubSet) : rng.int(subs.length);
        const chain = subs[sub].leaves;
        // Routines usually start near the beginning of the chain.
        const pos = Math.min(chain.length - 1, Math.floor(Math.pow(rng.next(), 1.5) * chain.length));
        next = fromLeaf(chain[pos]);
      }
      if (next < 0) continue;
      seen.add(next);
      hist.push(next);
      t += 3600 + rng.int(30 * 86400);
      interactions.push({ user, item: ids[next], timestamp: t });
    }
  }
  return { source: 'synthetic', items: catalogue, interactions, malformed: { count: 0, examples: [] } };
}
