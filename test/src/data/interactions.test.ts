/**
 * The typed-array interaction log and the preparation on its numbers, against brute-force
 * references: the repeat check against a set of text keys, the grouping + k-core against the
 * object functions (toSequences, kCore) on random logs.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../quantizer/core/index.js';
import { InteractionLog, type Interaction } from '../../../src/data/interactions.js';
import { coreSequences, kCore, prepare, toSequences } from '../../../src/data/split.js';

function randomInteractions(rng: Rng, n: number, users: number, items: number, times: number): Interaction[] {
  return Array.from({ length: n }, () => ({ user: `u${rng.int(users)}`, item: `i${rng.int(items)}`, timestamp: rng.int(times) }));
}

describe('InteractionLog', () => {
  it('keeps interactions in order, interns ids by first appearance, iterates as objects', () => {
    const xs: Interaction[] = [
      { user: 'b', item: 'x', timestamp: 5 },
      { user: 'a', item: 'y', timestamp: 1.5 },
      { user: 'b', item: 'y', timestamp: -3 },
    ];
    const log = InteractionLog.from(xs);
    expect(log.length).toBe(3);
    expect([...log]).toEqual(xs);
    expect([log.userCount, log.itemCount]).toEqual([2, 2]);
    expect([log.userName(0), log.userName(1), log.itemName(0), log.itemName(1)]).toEqual(['b', 'a', 'x', 'y']);
    expect([log.userAt(2), log.itemAt(2), log.timeAt(2)]).toEqual([0, 1, -3]);
    expect(log.at(1)).toEqual(xs[1]);
  });

  it('drops exactly the repeats a set of text keys drops, through many table growths', () => {
    const rng = new Rng(7);
    const xs = randomInteractions(rng, 20_000, 100, 50, 4); // 20,000 possible keys: about a third are repeats
    xs.push({ user: 'z', item: 'z', timestamp: 0 }, { user: 'z', item: 'z', timestamp: -0 }, { user: 'z', item: 'z', timestamp: 0.5 });
    const seen = new Set<string>();
    const want: Interaction[] = [];
    const wantRepeat: boolean[] = [];
    for (const x of xs) {
      const key = `${x.user}\u0000${x.item}\u0000${x.timestamp}`;
      wantRepeat.push(seen.has(key));
      if (!seen.has(key)) want.push(x);
      seen.add(key);
    }
    const log = new InteractionLog();
    const repeat = xs.map((x) => !log.pushUnique(x));
    expect(repeat).toEqual(wantRepeat);
    expect(repeat.filter(Boolean).length).toBeGreaterThan(1000);
    expect([...log].map((x) => `${x.user}/${x.item}/${x.timestamp}`)).toEqual(want.map((x) => `${x.user}/${x.item}/${x.timestamp}`));
  });
});

describe('coreSequences', () => {
  it('equals toSequences → kCore → at least minLen items, on random logs (ties in time included)', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 40; trial++) {
      const xs = randomInteractions(rng, 50 + rng.int(1500), 5 + rng.int(80), 5 + rng.int(60), 1 + rng.int(30));
      for (const core of [0, 1, 2, 3, 5, 8]) {
        const minLen = Math.max(core, 3);
        const want = kCore(toSequences(xs), core).filter((s) => s.items.length >= minLen);
        expect(coreSequences(InteractionLog.from(xs), core, minLen)).toEqual(want);
      }
    }
  });

  it('prepare gives the same dataset from a log and from an array of objects', () => {
    const rng = new Rng(11);
    const xs = randomInteractions(rng, 3000, 150, 80, 1000);
    const items = new Map<string, { id: string; title: string; text: string }>();
    const fromArray = prepare({ source: 't', items, interactions: xs, malformed: { count: 0, examples: [] } });
    const fromLog = prepare({ source: 't', items, interactions: InteractionLog.from(xs), malformed: { count: 0, examples: [] } });
    expect(fromLog).toEqual(fromArray);
    expect(fromLog.counts.users).toBeGreaterThan(10);
  });
});
