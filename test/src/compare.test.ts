/**
 * The comparison harness: two schemes × 2 seeds with a tiny transformer on small synthetic data,
 * the three report files, the HTML in headless Chromium, and resuming after an interruption
 * (a killed process) without redoing finished runs (test/src/compare-resume.test.ts).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { markdownReport, meanStd, pairedBootstrap, summarize, unfusedSummary } from '../../src/compare/report.js';
import { barChart } from '../../src/compare/charts.js';
import { Rng } from '../../quantizer/core/index.js';
import type { CompareResults } from '../../src/compare/harness.js';
import { run } from './cli-helpers.js';
import { COMPARE_TRAIN_ARGS, compareData } from './pipeline.js';
import { readPng } from './png.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'semrec-compare-'));
const data = path.join(root, 'data');
const trainArgs = COMPARE_TRAIN_ARGS;
const args = (out: string) => ['compare', '--data', data, '--schemes', 'rqkmeans:2x16,random:3x16', '--seeds', '2', '--out', out, '--train-args', trainArgs];

beforeAll(async () => {
  await compareData(root);
});

const CHROMIUM = '/usr/bin/chromium';

/** Open a file in headless Chromium; returns the serialised DOM, the console lines and a screenshot (PNG). */
function openInChromium(file: string): { dom: string; console: string[]; screenshot: Buffer } {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run \`npm run setup\` (installs Debian chromium)`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'semrec-chromium-'));
  try {
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0'];
    let stderr = '';
    const dom = execFileSync(CHROMIUM, [...flags, '--dump-dom', `file://${file}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    try {
      execFileSync(CHROMIUM, [...flags, '--dump-dom', `file://${file}`], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr ?? '');
    }
    const shot = path.join(profile, 'shot.png');
    execFileSync(CHROMIUM, [...flags, '--hide-scrollbars', '--window-size=1000,2400', `--screenshot=${shot}`, `file://${file}`], { stdio: 'ignore', timeout: 60_000 });
    return { dom, console: stderr.split('\n').filter((l) => l.includes(':CONSOLE')), screenshot: readFileSync(shot) };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe('semrec compare', () => {
  it('two schemes × 2 seeds: results.json, results.md and a report.html that renders in headless Chromium', async () => {
    const out = path.join(root, 'report');
    const r = await run(args(out));
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompareResults & { summary: unknown[] };
    expect(res.runs).toHaveLength(4);
    // run seed by seed (every scheme at seed 0 first); listed by scheme
    expect(r.err.match(/\[\d\/4\] \S+/g)).toEqual(['[1/4] rqkmeans_2x16-seed0', '[2/4] random_3x16-seed0', '[3/4] rqkmeans_2x16-seed1', '[4/4] random_3x16-seed1']);
    expect(res.runs.map((x) => `${x.scheme}/${x.seed}`)).toEqual(['rqkmeans:2x16/0', 'rqkmeans:2x16/1', 'random:3x16/0', 'random:3x16/1']);
    for (const x of res.runs) {
      expect(x.eval.invalidRate).toBe(0);
      expect(x.eval.users).toBe(800);
      expect(x.train.params.layers).toBe(1);
      // the block is recorded as trained (the default, llm), so a run made under another default is not reused
      expect(x.settings.train.block).toBe('llm');
      expect(x.train.params.block).toBe('llm');
      expect(x.eval.model.recall[10]).toBeGreaterThanOrEqual(x.eval.model.recall[5]);
      // fused runs also score their transformer part alone, on the same users
      const tf = x.parts!.transformer!;
      expect(tf.users).toBe(800);
      expect(tf.invalidRate).toBe(0);
      expect(tf.ranks).toHaveLength(800);
      expect(tf.popularity.recall[10]).toBeCloseTo(x.eval.popularity.recall[10], 12);
    }
    expect(res.summary).toHaveLength(2);
    const unfused = readFileSync(path.join(out, 'results.md'), 'utf8').split('Unfused: the transformer part')[1];
    const tfR5 = meanStd(res.runs.filter((x) => x.scheme === 'rqkmeans:2x16').map((x) => x.parts!.transformer!.model.recall[5]));
    expect(unfused).toContain(`| rqkmeans:2x16 | 2 | ${tfR5.mean.toFixed(4)} ± ${tfR5.std.toFixed(4)} |`);
    const md = readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/\| rqkmeans:2x16 \| 2 \| \d\.\d{4} ± \d\.\d{4}/);
    expect(md).toMatch(/\| random:3x16 \| 2 \|/);
    expect(md).toMatch(/popularity \(baseline\)/);
    expect(md).toMatch(/markov \(baseline\)/);
    // the baselines are scored on the same users as the runs, by the same evaluator
    expect(res.baselines!.map((b) => b.name)).toEqual(['popularity', 'markov']);
    expect(res.baselines![0].metrics.recall[10]).toBeCloseTo(res.runs[0].eval.popularity.recall[10], 10);
    expect(md).toMatch(/Made by semrec \d+\.\d+\.\d+ \(commit [0-9a-f]{12}\)|Made by semrec \d+\.\d+\.\d+;/);
    expect(md).toMatch(/Paired with the best scheme/);
    expect(res.runs[0].eval.ranks).toHaveLength(800);
    const page = openInChromium(path.join(out, 'report.html'));
    expect(page.dom).toContain('id="baselines"');
    expect(page.dom).toContain('id="paired"');
    expect(page.dom).toContain('id="unfused"');
    expect(page.dom).toContain('data-rendered="ok"');
    expect(page.dom.match(/<svg[^>]*class="chart"/g)).toHaveLength(4);
    expect(page.dom.match(/<circle class="dot"/g)!.length).toBe(4); // 2 schemes × 2 dot plots
    expect(page.dom).toMatch(/axis from [\d.]+, not 0|axis from 0/);
    // the screenshot, looked at: Chromium drew the charts (the first series' blue dots and bars)
    const png = readPng(page.screenshot);
    expect([png.width, png.height]).toEqual([1000, 2400]);
    let blue = 0;
    for (let i = 0; i < png.rgba.length; i += 4) if (Math.abs(png.rgba[i] - 0x4e) < 12 && Math.abs(png.rgba[i + 1] - 0x79) < 12 && Math.abs(png.rgba[i + 2] - 0xa7) < 12) blue++;
    expect(blue).toBeGreaterThan(200);
    expect(page.console).toEqual([]);
  }, 600_000);

  it('warns loudly, in the terminal and the report, when the model cannot tell schemes apart', async () => {
    const out = path.join(root, 'blind');
    const r = await run(['compare', '--data', data, '--schemes', 'random:3x16', '--seeds', '1', '--arch', 'transition', '--limit', '50', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/\*\*\* warning: the transition model alone .* cannot tell indexing schemes apart/);
    expect(readFileSync(path.join(out, 'results.md'), 'utf8')).toMatch(/> \*\*Warning:\*\* the transition model alone/);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/class="warning" role="alert"/);
  }, 120_000);

  it('--embed builds every index on the chosen item embeddings (here text+cf) and says so in the report', async () => {
    const out = path.join(root, 'embed');
    const r = await run(['compare', '--data', data, '--schemes', 'rqkmeans:2x16', '--seeds', '1', '--arch', 'transition', '--limit', '50', '--embed', 'text+cf', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompareResults;
    expect(res.runs[0].settings.embed).toBe('text+cf');
    const st = JSON.parse((await run(['index', 'stats', path.join(out, 'runs', 'rqkmeans_2x16-seed0', 'index')])).out);
    expect(st.params.encoder).toMatch(/^tfidf-svd:\d+\+cf-ppmi-svd:\d+$/);
    expect(readFileSync(path.join(out, 'results.md'), 'utf8')).toMatch(/item embeddings: text\+cf/);
    // a per-scheme suffix: the same scheme on two embedding sources, in one report
    const both = path.join(root, 'embed-both');
    const r2 = await run(['compare', '--data', data, '--schemes', 'rqkmeans:2x16,rqkmeans:2x16@text+cf', '--seeds', '1', '--arch', 'transition', '--limit', '50', '--out', both]);
    expect(r2.code, r2.err).toBe(0);
    const res2 = JSON.parse(readFileSync(path.join(both, 'results.json'), 'utf8')) as CompareResults;
    expect(res2.config.schemes).toEqual(['rqkmeans:2x16', 'rqkmeans:2x16@text+cf']);
    expect(res2.runs.map((x) => [x.scheme, x.settings.scheme, x.settings.embed])).toEqual([['rqkmeans:2x16', 'rqkmeans:2x16', undefined], ['rqkmeans:2x16@text+cf', 'rqkmeans:2x16', 'text+cf']]);
    const enc = async (name: string) => (JSON.parse((await run(['index', 'stats', path.join(both, 'runs', name, 'index')])).out) as { params: { encoder: string } }).params.encoder;
    expect(await enc('rqkmeans_2x16-seed0')).toMatch(/^tfidf-svd:\d+$/);
    expect(await enc('rqkmeans_2x16_text+cf-seed0')).toMatch(/^tfidf-svd:\d+\+cf-ppmi-svd:\d+$/);
    expect(readFileSync(path.join(both, 'results.md'), 'utf8')).toMatch(/\| rqkmeans:2x16@text\+cf \| 1 \|/);
    const badSuffix = await run(['compare', '--data', data, '--schemes', 'rqkmeans:2x16@pixels', '--out', path.join(root, 'embed-bad2')]);
    expect(badSuffix.code).toBe(2);
    expect(badSuffix.err).toMatch(/the embeddings of scheme "rqkmeans:2x16@pixels" must be text, cf or text\+cf, got "pixels"/);
    const bad = await run(['compare', '--data', data, '--schemes', 'rqkmeans:2x16', '--seeds', '1', '--arch', 'transition', '--embed', 'images', '--out', path.join(root, 'embed-bad')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/embed must be text, cf or text\+cf, got "images"/);
  }, 120_000);

  it('--sasrec trains SASRec per seed as a baseline row: same users, paired with the best scheme, in results.md and report.html; reused on resume', async () => {
    const out = path.join(root, 'sasrec');
    const cmd = ['compare', '--data', data, '--schemes', 'rqkmeans:2x16', '--seeds', '2', '--arch', 'transition', '--limit', '300', '--out', out, '--sasrec-args', '--epochs 6 --layers 1 --d-model 16 --heads 1 --lr 0.005 --threads 1'];
    const r = await run(cmd);
    expect(r.code, r.err).toBe(0);
    expect(r.err.match(/\[\d\/4\] \S+/g)).toEqual(['[1/4] rqkmeans_2x16-seed0', '[2/4] sasrec-seed0', '[3/4] rqkmeans_2x16-seed1', '[4/4] sasrec-seed1']);
    expect(r.err).toMatch(/sasrec R@10 \d\.\d{4}/);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompareResults & { baselineSummary: { metrics: Record<string, { mean: number }>; vsBest?: unknown } };
    expect(res.baselineRuns!.map((b) => [b.name, b.seed, b.settings.scheme])).toEqual([['sasrec', 0, 'rqkmeans:2x16'], ['sasrec', 1, 'rqkmeans:2x16']]);
    for (const b of res.baselineRuns!) {
      expect(b.eval.invalidRate).toBe(0);
      expect(b.eval.users).toBe(300);
      expect(b.eval.ranks).toHaveLength(300);
      expect(b.train.params.sasrec).toMatchObject({ layers: 1, d: 16, seed: b.seed });
      // the same users as the scheme's runs: the popularity figures agree
      expect(b.eval.popularity.recall[10]).toBeCloseTo(res.runs[0].eval.popularity.recall[10], 12);
    }
    const mean = meanStd(res.baselineRuns!.map((b) => b.eval.model.recall[10]));
    expect(res.baselineSummary.metrics.recall10.mean).toBeCloseTo(mean.mean, 12);
    expect(res.baselineSummary.vsBest).toBeDefined();
    const md = readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain(`| sasrec (trained baseline) | 2 | `);
    expect(md).toMatch(new RegExp(`\\| sasrec \\(trained baseline\\) \\| 2 \\| [^|]+ \\| [^|]+ \\| ${mean.mean.toFixed(4)} ± ${mean.std.toFixed(4)} \\|`));
    expect(md).toMatch(/sasrec: SASRec \(Kang & McAuley 2018\), trained per seed on the train split with full cross-entropy/);
    expect(md).toMatch(/history items are masked/);
    expect(md).toMatch(/\| sasrec \(trained baseline\) \| [+-]\d\.\d{4} \[/); // the paired row
    const page = openInChromium(path.join(out, 'report.html'));
    expect(page.dom).toContain('sasrec (trained baseline, 2 seeds: mean ± std)');
    expect(page.dom).toContain('data-rendered="ok"');
    expect(page.dom.match(/<circle class="dot"/g)!.length).toBe(4); // the scheme and SASRec × 2 dot plots
    // resumed: nothing is trained again
    const again = await run(cmd);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toMatch(/\[2\/4\] sasrec-seed0: finished earlier, reused/);
    expect(again.err).toMatch(/\[4\/4\] sasrec-seed1: finished earlier, reused/);
    expect(again.err).not.toMatch(/sasrec R@10/);
    const bad = await run([...cmd.slice(0, -1), '--bogus 1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--sasrec-args: unknown flag "--bogus"/);
  }, 300_000);

  it('rejects unknown --train-args flags and duplicate schemes', async () => {
    const bad = await run(['compare', '--data', data, '--schemes', 'random:3x16', '--out', path.join(root, 'x'), '--train-args', '--bogus 3']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown flag "--bogus"/);
    const dup = await run(['compare', '--data', data, '--schemes', 'random:3x16,random:3x16', '--out', path.join(root, 'y')]);
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(/twice/);
  });
});

describe('report charts', () => {
  it('bar charts slant category labels that would overlap and wrap the legend inside the chart', () => {
    const attr = (svg: string, name: string) => Number(new RegExp(`<svg[^>]* ${name}="([\\d.]+)"`).exec(svg)![1]);
    const short = barChart('coverage', ['a', 'b', 'c'], [{ name: 'x', values: [0.1, 0.2, 0.3] }]);
    expect(short).not.toContain('rotate(');
    const names = ['rqkmeans:3x256', 'rqkmeans:3x256@text+cf', 'rqvae:3x256', 'collab:3x256', 'hybrid:3x256', 'sequential:3x256', 'random:3x256'];
    const long = barChart('utilisation', ['level 1', 'level 2'], names.map((n) => ({ name: n, values: [1, 0.5] })));
    const wide = barChart('coverage', names, [{ name: 'coverage@10', values: names.map(() => 0.5) }]);
    expect(wide.match(/rotate\(-30 /g)).toHaveLength(names.length);
    // every legend entry starts inside the chart and its text (≈ 6.4 px a character) ends inside it
    const W = attr(long, 'width');
    const H = attr(long, 'height');
    const entries = [...long.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="10" height="10"[^>]*\/><text[^>]*>([^<]+)<\/text>/g)];
    expect(entries).toHaveLength(names.length);
    for (const [, x, y, text] of entries) {
      expect(+x + 14 + text.length * 6.4).toBeLessThanOrEqual(W);
      expect(+y + 10).toBeLessThanOrEqual(H);
    }
    expect(new Set(entries.map((e) => e[2])).size).toBeGreaterThan(1); // more than one row
  });
});

describe('report aggregation', () => {
  it('mean and sample standard deviation', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3) });
    expect(meanStd([7])).toEqual({ mean: 7, std: 0 });
  });

  it('summarizes runs by scheme and writes the table', () => {
    const mk = (scheme: string, seed: number, r10: number) => ({
      run: `${scheme}-${seed}`,
      scheme,
      seed,
      settings: {},
      index: { seconds: 1, hash: 'h', stats: { items: 3, levels: 2, codebookSizes: [2, 2], scheme, collisions: 'none', collisionsResolved: 0, collidingGroups: 0, maxGroup: 1, perLevel: [{ utilisation: 1, normalisedEntropy: 0.9 }, { utilisation: 0.5, normalisedEntropy: 0.4 }] } },
      train: { seconds: 2, params: {} },
      eval: { split: 'test', users: 10, model: { n: 10, recall: { 5: r10 / 2, 10: r10 }, ndcg: { 5: 0.1, 10: 0.2 }, coverage: 0.3 }, popularity: { n: 10, recall: { 5: 0, 10: 0 }, ndcg: { 5: 0, 10: 0 }, coverage: 0 }, invalidRate: 0, emptyHistories: 0, latencyMs: { p50: 1, p99: 2, mean: 1 }, throughput: 1, seconds: 1 },
      finishedAt: '',
    });
    const results = { format: 'semrec-compare', formatVersion: 1, data: { dir: 'd', users: 10, items: 3, interactions: 30 }, config: { schemes: ['a:2x2', 'b:2x2'], seeds: 2, arch: 'bigram', train: {}, beamWidth: 20, split: 'test' }, runs: [mk('a:2x2', 0, 0.2), mk('a:2x2', 1, 0.4), mk('b:2x2', 0, 0.1)], seconds: 1 } as unknown as CompareResults;
    const s = summarize(results);
    expect(s[0].metrics.recall10.mean).toBeCloseTo(0.3, 12);
    expect(s[0].metrics.recall10.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(s[1].runs).toBe(1);
    expect(s[0].utilisation).toEqual([1, 0.5]);
    expect(s[0].entropy).toEqual([0.9, 0.4]);
    expect(markdownReport(results)).toContain('| a:2x2 | 1.00 / 0.50 | 0.90 / 0.40 |');
    expect(markdownReport(results)).toContain('| a:2x2 | 2 | 0.1500 ± 0.0707 | 0.1000 ± 0.0000 | 0.3000 ± 0.1414 |');
    // one run: no spread to show
    expect(markdownReport(results)).toContain('| b:2x2 | 1 | 0.0500 (—) |');
  });

  it('paired bootstrap against the best scheme, on per-user ranks (brute-force mean, interval around it)', () => {
    const mk = (scheme: string, seed: number, ranks: number[]) => ({
      run: `${scheme}-${seed}`,
      scheme,
      seed,
      settings: {},
      index: { seconds: 1, hash: 'h', stats: { collisionsResolved: 0, perLevel: [] } },
      train: { seconds: 1, params: {} },
      eval: { model: { recall: { 5: 0, 10: ranks.filter((k) => k > 0).length / ranks.length }, ndcg: { 5: 0, 10: 0 }, coverage: 0 }, invalidRate: 0, latencyMs: { p50: 1 }, ranks },
    });
    const r = new Rng(4);
    const n = 400;
    const good = Array.from({ length: n }, () => (r.next() < 0.5 ? 1 + r.int(10) : 0));
    const worse = good.map((k) => (k && r.next() < 0.3 ? 0 : k)); // loses about 30 % of the hits
    const same = [...good];
    const results = { format: 'semrec-compare', formatVersion: 1, data: { dir: 'd', users: n, items: 3, interactions: 30 }, config: { schemes: ['good', 'worse', 'same'], seeds: 1, arch: 'fused', train: {}, beamWidth: 20, split: 'test' }, runs: [mk('good', 0, good), mk('worse', 0, worse), mk('same', 0, same)], seconds: 1 } as unknown as CompareResults;
    const s = summarize(results);
    expect(s[0].vsBest).toBeUndefined(); // the best itself
    const lost = good.filter((k, i) => k > 0 && worse[i] === 0).length;
    expect(s[1].vsBest!.recall10.mean).toBeCloseTo(-lost / n, 12);
    expect(s[1].vsBest!.recall10.hi).toBeLessThan(0); // a real difference
    expect(s[1].vsBest!.recall10.lo).toBeLessThan(s[1].vsBest!.recall10.mean);
    expect(s[2].vsBest!.recall10).toEqual({ mean: 0, lo: 0, hi: 0 }); // identical ranks
    expect(markdownReport(results)).toMatch(/\| worse \| -0\.\d{4} \[-0\.\d{4}, -0\.\d{4}\] \|/);
    // the unfused parts are paired the same way, among themselves: here the transformer part of
    // "worse" is the best one and "good"'s part loses the hits "worse" lost
    const part = (ranks: number[]) => ({ model: { recall: { 5: 0, 10: ranks.filter((k) => k > 0).length / ranks.length }, ndcg: { 5: 0, 10: 0 }, coverage: 0 }, invalidRate: 0, latencyMs: { p50: 1 }, ranks });
    const withParts = { ...results, runs: results.runs.map((x) => ({ ...x, parts: { transformer: part(x.scheme === 'worse' ? good : x.scheme === 'good' ? worse : same.map(() => 0)) } })) } as unknown as CompareResults;
    const u = unfusedSummary(withParts)!;
    expect(u[0].vsBest!.recall10.mean).toBeCloseTo(-lost / n, 12);
    expect(u[1].vsBest).toBeUndefined();
    expect(u[2].vsBest!.recall10.mean).toBeCloseTo(-good.filter((k) => k > 0).length / n, 12);
    expect(markdownReport(withParts).split('Unfused')[1]).toMatch(/\| good \| 1 \| .* \| -0\.\d{4} \[-0\.\d{4}, -0\.\d{4}\] \| -0\.\d{4} \[/);
    // the bootstrap itself: a constant difference has a zero-width interval
    expect(pairedBootstrap(new Float64Array([0.5, 0.5, 0.5]))).toEqual({ mean: 0.5, lo: 0.5, hi: 0.5 });
  });
});
