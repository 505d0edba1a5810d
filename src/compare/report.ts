/**
 * Reports of a comparison: `results.json` (every run, every metric, config, timing), `results.md`
 * (mean ± std per scheme) and `report.html` (self-contained; inline SVG charts of each metric per
 * scheme with ±1 std error bars, and codebook utilisation per level). Written atomically.
 */
import path from 'node:path';
import { writeFileAtomic, writeManifest, Rng } from '../../quantizer/core/index.js';
import type { CompareResults, RunResult } from './types.js';
import { barChart, dotPlot, esc, tInterval } from './charts.js';

/** Mean and sample standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

/** Metric columns of the tables and charts. */
const METRICS: { key: string; label: string; get: (r: Pick<RunResult, 'eval'>) => number }[] = [
  { key: 'recall5', label: 'Recall@5', get: (r) => r.eval.model.recall[5] },
  { key: 'ndcg5', label: 'NDCG@5', get: (r) => r.eval.model.ndcg[5] },
  { key: 'recall10', label: 'Recall@10', get: (r) => r.eval.model.recall[10] },
  { key: 'ndcg10', label: 'NDCG@10', get: (r) => r.eval.model.ndcg[10] },
  { key: 'coverage10', label: 'coverage@10', get: (r) => r.eval.model.coverage },
];

/** A scheme's metrics over its runs, and (except for the best) its paired difference from the best scheme. */
export interface MetricSummary {
  scheme: string;
  runs: number;
  metrics: Record<string, { mean: number; std: number }>;
  /**
   * Paired comparison with the best scheme (highest mean Recall@10) on the same users: the mean
   * per-user difference (this − best) of Recall@10 and NDCG@10, each user's value averaged over
   * seeds, with a 95 % paired bootstrap interval (1,000 resamples, seed 0). Absent for the best
   * scheme itself and when per-user ranks are missing.
   */
  vsBest?: { recall10: Interval; ndcg10: Interval };
}

/** Per-scheme summary of the unfused (transformer part) figures. */
export type UnfusedSummary = MetricSummary;

/** The unfused figures of fused runs: per scheme, each metric of the transformer part alone (mean ± std over the runs that have it), paired with the best. */
export function unfusedSummary(results: CompareResults): UnfusedSummary[] | undefined {
  if (!results.runs.some((r) => r.parts?.transformer)) return undefined;
  const runsOf = (scheme: string) => results.runs.filter((r) => r.scheme === scheme && r.parts?.transformer).map((r) => ({ ...r, eval: r.parts!.transformer! }));
  const sums = results.config.schemes.map((scheme): UnfusedSummary => {
    const rs = runsOf(scheme);
    return { scheme, runs: rs.length, metrics: Object.fromEntries(METRICS.map((m) => [m.key, meanStd(rs.map(m.get))])) };
  });
  pairWithBest(sums, runsOf);
  return sums;
}

/**
 * Paired comparisons with the best of `sums` (highest mean Recall@10) on the same users: sets
 * `vsBest` of every other summary whose runs have per-user ranks for the same users.
 */
function pairWithBest(sums: MetricSummary[], runsOf: (scheme: string) => Pick<RunResult, 'eval'>[]): void {
  const best = sums.reduce<MetricSummary | undefined>((b, s) => (s.runs && (!b || s.metrics.recall10.mean > b.metrics.recall10.mean) ? s : b), undefined);
  const bestUsers = best && perUser(runsOf(best.scheme));
  if (!best || !bestUsers) return;
  for (const s of sums) {
    if (s === best) continue;
    const u = perUser(runsOf(s.scheme));
    if (!u || u.hit.length !== bestUsers.hit.length) continue;
    s.vsBest = {
      recall10: pairedBootstrap(u.hit.map((x, i) => x - bestUsers.hit[i])),
      ndcg10: pairedBootstrap(u.ndcg.map((x, i) => x - bestUsers.ndcg[i])),
    };
  }
}

/**
 * The trained baseline (SASRec) over its seeds, paired with the best scheme (highest mean
 * Recall@10) on the same users; undefined when the comparison trained none.
 */
export function baselineSummary(results: CompareResults): MetricSummary | undefined {
  const rs = results.baselineRuns ?? [];
  if (!rs.length) return undefined;
  const s: MetricSummary = { scheme: 'sasrec', runs: rs.length, metrics: Object.fromEntries(METRICS.map((m) => [m.key, meanStd(rs.map(m.get))])) };
  const best = summarize(results).reduce<MetricSummary | undefined>((b, x) => (x.runs && (!b || x.metrics.recall10.mean > b.metrics.recall10.mean) ? x : b), undefined);
  const u = perUser(rs);
  const bu = best && perUser(results.runs.filter((r) => r.scheme === best.scheme));
  if (u && bu && u.hit.length === bu.hit.length) {
    s.vsBest = { recall10: pairedBootstrap(u.hit.map((x, i) => x - bu.hit[i])), ndcg10: pairedBootstrap(u.ndcg.map((x, i) => x - bu.ndcg[i])) };
  }
  return s;
}

/** What the trained baseline is, for both reports. */
function baselineNote(results: CompareResults): string {
  const r = results.baselineRuns?.[0];
  if (!r) return '';
  const p = r.settings.sasrec;
  const epochs = results.baselineRuns!.map((b) => `${b.train.params.bestEpoch}/${b.train.params.epochsRun}`).join(', ');
  const excl = results.baselineRuns!.every((b) => (b.train.params.seen as { exclude?: boolean } | undefined)?.exclude);
  return `sasrec: SASRec (Kang & McAuley 2018), trained per seed on the train split with ${p.loss === 'sampled' ? `a sampled softmax (${p.negatives ?? 256} uniform negatives)` : 'full cross-entropy over the catalogue'}, early-stopped on validation NDCG@10 (best/run epochs per seed: ${epochs}); history items are masked in its validation ranking, and at serving ${excl ? 'excluded, as' : 'handled as'} chosen on validation like every semrec model; served through the trie with an exact top-k search (no invalid item).`;
}

/** Per-scheme aggregate. */
export interface SchemeSummary extends MetricSummary {
  invalidRate: number;
  latencyP50Ms: number;
  indexSeconds: number;
  trainSeconds: number;
  collisions: number;
  /** Mean utilisation per level. */
  utilisation: number[];
  /** Mean normalised entropy per level (1 = codes used uniformly). */
  entropy: number[];
}

/** A mean with a 95 % interval. */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
}

/** Per user: hit@10 and NDCG@10 averaged over the runs (undefined if any run lacks ranks or users differ). */
function perUser(rs: Pick<RunResult, 'eval'>[]): { hit: Float64Array; ndcg: Float64Array } | undefined {
  if (!rs.length || rs.some((r) => !r.eval.ranks)) return undefined;
  const n = rs[0].eval.ranks!.length;
  if (rs.some((r) => r.eval.ranks!.length !== n)) return undefined;
  const hit = new Float64Array(n);
  const ndcg = new Float64Array(n);
  for (const r of rs) {
    r.eval.ranks!.forEach((k, u) => {
      if (k >= 1 && k <= 10) {
        hit[u] += 1 / rs.length;
        ndcg[u] += 1 / Math.log2(k + 1) / rs.length;
      }
    });
  }
  return { hit, ndcg };
}

/** Mean of d and a 95 % percentile bootstrap interval over users (seeded). */
export function pairedBootstrap(d: Float64Array, resamples = 1000, seed = 0): Interval {
  const n = d.length;
  const mean = d.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)];
    means[b] = s / Math.max(1, n);
  }
  means.sort();
  return { mean, lo: means[Math.floor(0.025 * resamples)], hi: means[Math.min(resamples - 1, Math.ceil(0.975 * resamples) - 1)] };
}

/** Aggregate runs by scheme (in the order schemes were given). */
export function summarize(results: CompareResults): SchemeSummary[] {
  const sums = results.config.schemes.map((scheme): SchemeSummary => {
    const rs = results.runs.filter((r) => r.scheme === scheme);
    const levels = Math.max(0, ...rs.map((r) => r.index.stats.perLevel.length));
    return {
      scheme,
      runs: rs.length,
      metrics: Object.fromEntries(METRICS.map((m) => [m.key, meanStd(rs.map(m.get))])),
      invalidRate: Math.max(0, ...rs.map((r) => r.eval.invalidRate)),
      latencyP50Ms: meanStd(rs.map((r) => r.eval.latencyMs.p50)).mean,
      indexSeconds: meanStd(rs.map((r) => r.index.seconds)).mean,
      trainSeconds: meanStd(rs.map((r) => r.train.seconds)).mean,
      collisions: meanStd(rs.map((r) => r.index.stats.collisionsResolved)).mean,
      utilisation: Array.from({ length: levels }, (_, l) => meanStd(rs.map((r) => r.index.stats.perLevel[l]?.utilisation ?? 0)).mean),
      entropy: Array.from({ length: levels }, (_, l) => meanStd(rs.map((r) => r.index.stats.perLevel[l]?.normalisedEntropy ?? 0)).mean),
    };
  });
  // paired comparisons with the best scheme, on the same users
  pairWithBest(sums, (scheme) => results.runs.filter((r) => r.scheme === scheme));
  return sums;
}

/** `mean ± std`, or the mean and "—" when there is one run (no spread to show). */
function pm(m: { mean: number; std: number }, n: number): string {
  return n > 1 ? `${f4(m.mean)} ± ${f4(m.std)}` : `${f4(m.mean)} (—)`;
}

/** A paired interval as text. */
function iv(x: Interval | undefined): string {
  return x ? `${x.mean >= 0 ? '+' : ''}${f4(x.mean)} [${f4(x.lo)}, ${f4(x.hi)}]` : '—';
}

/** Provenance and warnings, for both reports. */
function header(results: CompareResults): { provenance: string; warnings: string[] } {
  const m = results.meta;
  const provenance = m
    ? `semrec ${m.semrec}${m.commit ? ` (commit ${m.commit.slice(0, 12)})` : ''}; ${m.date}; Node ${m.node}; ${m.hardware.cpus} × ${m.hardware.cpuModel}, ${m.hardware.memoryGb} GB; wall time ${results.seconds.toFixed(0)} s; command: ${m.command}`
    : '';
  return { provenance, warnings: results.warnings ?? [] };
}

const f4 = (x: number) => x.toFixed(4);

/** The mean ± std table in Markdown. */
export function markdownReport(results: CompareResults): string {
  const sum = summarize(results);
  const pop = results.runs[0]?.eval.popularity;
  const lines = [
    `# Indexing schemes compared`,
    ``,
    `Data: ${results.data.dir} (${results.data.users} users, ${results.data.items} items, ${results.data.interactions} interactions). ` +
      `Generator: ${results.config.arch}; item embeddings: ${results.config.embed ?? 'text'}; ${results.config.seeds} seed(s) per scheme; ${results.config.split} split${results.config.limit ? `, a seeded random sample of ${results.config.limit} users (seed 0, the same users in every run)` : ''}; beam ${results.config.beamWidth}. Mean ± sample std over seeds.`,
    ``,
    `| scheme | runs | ${METRICS.map((m) => m.label).join(' | ')} | invalid | collisions | index s | train s |`,
    `|---|---|${METRICS.map(() => '---').join('|')}|---|---|---|---|`,
    ...sum.map(
      (s) =>
        `| ${s.scheme} | ${s.runs} | ${METRICS.map((m) => pm(s.metrics[m.key], s.runs)).join(' | ')} | ${s.invalidRate} | ${Math.round(s.collisions)} | ${s.indexSeconds.toFixed(1)} | ${s.trainSeconds.toFixed(1)} |`,
    ),
  ];
  const { provenance, warnings } = header(results);
  for (const w of warnings) lines.splice(2, 0, `> **Warning:** ${w}`, '');
  if (provenance) lines.splice(3 + warnings.length * 2, 0, `Made by ${provenance}`, '');
  const baselines = results.baselines ?? (pop ? [{ name: 'popularity', metrics: pop, invalidRate: 0 }] : []);
  for (const b of baselines) lines.push(`| ${b.name} (baseline) | — | ${f4(b.metrics.recall[5])} | ${f4(b.metrics.ndcg[5])} | ${f4(b.metrics.recall[10])} | ${f4(b.metrics.ndcg[10])} | ${f4(b.metrics.coverage)} | ${b.invalidRate} | — | — | — |`);
  const trained = baselineSummary(results);
  if (trained) {
    const secs = meanStd(results.baselineRuns!.map((b) => b.train.seconds)).mean;
    lines.push(`| sasrec (trained baseline) | ${trained.runs} | ${METRICS.map((m) => pm(trained.metrics[m.key], trained.runs)).join(' | ')} | ${Math.max(0, ...results.baselineRuns!.map((b) => b.eval.invalidRate))} | — | — | ${secs.toFixed(1)} |`);
  }
  if (results.baselines?.some((b) => b.name === 'markov')) lines.push('', 'markov: first-order transitions over item ids (most frequent next items of the last history item, then popularity); not constrained by the IDs.');
  if (trained) lines.push('', baselineNote(results));
  if (sum.some((s) => s.vsBest) || trained?.vsBest) {
    const best = sum.reduce<SchemeSummary | undefined>((b, x) => (x.runs && (!b || x.metrics.recall10.mean > b.metrics.recall10.mean) ? x : b), undefined);
    lines.push('', `Paired with the best scheme (${best?.scheme}) on the same users: mean per-user difference and 95 % bootstrap interval (1,000 resamples over users; each user's value averaged over seeds). An interval that excludes 0 is a difference the data supports.`, '', '| scheme | Δ Recall@10 | Δ NDCG@10 |', '|---|---|---|');
    for (const s of sum) if (s.vsBest) lines.push(`| ${s.scheme} | ${iv(s.vsBest.recall10)} | ${iv(s.vsBest.ndcg10)} |`);
    if (trained?.vsBest) lines.push(`| sasrec (trained baseline) | ${iv(trained.vsBest.recall10)} | ${iv(trained.vsBest.ndcg10)} |`);
  }
  const unfused = unfusedSummary(results);
  if (unfused) {
    const bestTf = unfused.find((u) => u.runs && !u.vsBest && unfused.some((o) => o.vsBest));
    lines.push('', `Unfused: the transformer part of each fused model alone, on the same users (mean ± sample std over seeds)${bestTf ? `; Δ: paired with the best (${bestTf.scheme}), 95 % bootstrap interval over users` : ''}.`, '', `| scheme | runs | ${METRICS.map((m) => m.label).join(' | ')} | Δ Recall@10 | Δ NDCG@10 |`, `|---|---|${METRICS.map(() => '---').join('|')}|---|---|`);
    for (const u of unfused) lines.push(`| ${u.scheme} | ${u.runs} | ${METRICS.map((m) => (u.runs ? pm(u.metrics[m.key], u.runs) : '—')).join(' | ')} | ${u.vsBest ? iv(u.vsBest.recall10) : '—'} | ${u.vsBest ? iv(u.vsBest.ndcg10) : '—'} |`);
  }
  lines.push('', `Codebooks per level: utilisation (share of codes used) and normalised entropy (1 = codes used uniformly); collisions resolved are in the table above.`, '', '| scheme | utilisation by level | entropy by level |', '|---|---|---|');
  for (const s of sum) lines.push(`| ${s.scheme} | ${s.utilisation.map((u) => u.toFixed(2)).join(' / ')} | ${s.entropy.map((u) => u.toFixed(2)).join(' / ')} |`);
  return lines.join('\n') + '\n';
}

/** The self-contained HTML report. */
function htmlReport(results: CompareResults): string {
  const head = header(results);
  const sum = summarize(results);
  const unfused = unfusedSummary(results);
  const names = sum.map((s) => s.scheme);
  // dot plots with 95 % intervals over seeds, on axes that do not start at zero, baselines marked
  const base = results.baselines ?? [];
  const trained = baselineSummary(results);
  const dots = (key: 'recall10' | 'ndcg10', label: string, get: (m: { recall: Record<number, number>; ndcg: Record<number, number> }) => number) =>
    dotPlot(`${label}: mean and 95 % interval over seeds`, [
      ...sum.map((s) => ({ name: s.scheme, ...tInterval(s.metrics[key].mean, s.metrics[key].std, s.runs) })),
      ...(trained ? [{ name: 'sasrec (trained baseline)', ...tInterval(trained.metrics[key].mean, trained.metrics[key].std, trained.runs) }] : []),
      ...base.map((b) => ({ name: `${b.name} (baseline)`, mean: get(b.metrics), lo: get(b.metrics), hi: get(b.metrics), baseline: true })),
    ]);
  const metricChart = `${dots('recall10', 'Recall@10', (m) => m.recall[10])}\n${dots('ndcg10', 'NDCG@10', (m) => m.ndcg[10])}`;
  const levels = Math.max(0, ...sum.map((s) => s.utilisation.length));
  const utilChart = barChart(
    'Codebook utilisation per level',
    Array.from({ length: levels }, (_, l) => `level ${l + 1}`),
    sum.map((s) => ({ name: s.scheme, values: Array.from({ length: levels }, (_, l) => s.utilisation[l] ?? 0) })),
    1,
  );
  const coverageChart = barChart('Catalogue coverage@10', names, [{ name: 'coverage@10', values: sum.map((s) => s.metrics.coverage10.mean), errors: sum.map((s) => s.metrics.coverage10.std) }]);
  const rows = results.runs
    .map((r) => `<tr><td>${esc(r.scheme)}</td><td>${r.seed}</td>${METRICS.map((m) => `<td>${m.get(r).toFixed(4)}</td>`).join('')}<td>${r.eval.invalidRate}</td><td>${r.index.seconds.toFixed(1)}</td><td>${r.train.seconds.toFixed(1)}</td><td>${r.eval.latencyMs.p50.toFixed(1)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>semrec: indexing schemes compared</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:960px}table{border-collapse:collapse;margin:1em 0}.warning{background:#fff3cd;border:1px solid #e0b400;padding:.6em}.meta{color:#555;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.chart{display:block;margin:1.5em 0}</style>
</head><body>
<h1>Indexing schemes compared</h1>
${head.warnings.map((w) => `<p class="warning" role="alert"><strong>Warning:</strong> ${esc(w)}</p>`).join('\n')}
${head.provenance ? `<p class="meta">Made by ${esc(head.provenance)}</p>` : ''}
<p>Data: ${esc(results.data.dir)} — ${results.data.users} users, ${results.data.items} items, ${results.data.interactions} interactions.
Generator: ${esc(results.config.arch)}; item embeddings: ${esc(results.config.embed ?? 'text')}; ${results.config.seeds} seed(s) per scheme; ${esc(results.config.split)} split; beam ${results.config.beamWidth}.</p>
${metricChart}
${coverageChart}
${utilChart}
${
    results.baselines?.length
      ? `<h2>Baselines (same users)</h2>
<table id="baselines"><thead><tr><th>ranker</th>${METRICS.slice(0, 4).map((m) => `<th>${m.label}</th>`).join('')}<th>coverage@10</th></tr></thead><tbody>
${results.baselines.map((b) => `<tr><td>${esc(b.name)}</td><td>${b.metrics.recall[5].toFixed(4)}</td><td>${b.metrics.ndcg[5].toFixed(4)}</td><td>${b.metrics.recall[10].toFixed(4)}</td><td>${b.metrics.ndcg[10].toFixed(4)}</td><td>${b.metrics.coverage.toFixed(4)}</td></tr>`).join('\n')}
${trained ? `<tr><td>sasrec (trained baseline, ${trained.runs} seed${trained.runs > 1 ? 's' : ''}: mean ± std)</td>${METRICS.map((m) => `<td>${pm(trained.metrics[m.key], trained.runs)}</td>`).join('')}</tr>` : ''}
</tbody></table>${trained ? `\n<p>${esc(baselineNote(results))}</p>` : ''}`
      : ''
  }
${
    sum.some((s) => s.vsBest) || trained?.vsBest
      ? `<h2>Paired with the best scheme (95 % bootstrap intervals)</h2>
<table id="paired"><thead><tr><th>scheme</th><th>Δ Recall@10</th><th>Δ NDCG@10</th></tr></thead><tbody>
${sum
  .filter((s) => s.vsBest)
  .map((s) => `<tr><td>${esc(s.scheme)}</td><td>${iv(s.vsBest!.recall10)}</td><td>${iv(s.vsBest!.ndcg10)}</td></tr>`)
  .join('\n')}${trained?.vsBest ? `\n<tr><td>sasrec (trained baseline)</td><td>${iv(trained.vsBest.recall10)}</td><td>${iv(trained.vsBest.ndcg10)}</td></tr>` : ''}
</tbody></table>`
      : ''
  }
${
    unfused
      ? `<h2>Unfused: the transformer part alone (same users)</h2>
<table id="unfused"><thead><tr><th>scheme</th><th>runs</th>${METRICS.map((m) => `<th>${m.label}</th>`).join('')}<th>Δ Recall@10 vs best</th><th>Δ NDCG@10 vs best</th></tr></thead><tbody>
${unfused
  .map((u) => `<tr><td>${esc(u.scheme)}</td><td>${u.runs}</td>${METRICS.map((m) => `<td>${u.runs ? pm(u.metrics[m.key], u.runs) : '—'}</td>`).join('')}<td>${u.vsBest ? iv(u.vsBest.recall10) : '—'}</td><td>${u.vsBest ? iv(u.vsBest.ndcg10) : '—'}</td></tr>`)
  .join('\n')}
</tbody></table>`
      : ''
  }
<h2>All runs</h2>
<table id="runs"><thead><tr><th>scheme</th><th>seed</th>${METRICS.map((m) => `<th>${m.label}</th>`).join('')}<th>invalid</th><th>index s</th><th>train s</th><th>p50 ms</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<script>
// self-check used by the test suite (headless Chromium): every chart drew its bars
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var ok = charts.length === 4;
  charts.forEach(function (c) { ok = ok && c.querySelectorAll('rect.bar, circle.dot').length > 0 && c.getBBox().width > 0; });
  document.body.setAttribute('data-rendered', ok ? 'ok' : 'broken');
})();
</script>
</body></html>
`;
}

/** Write results.json, results.md and report.html into `dir`. */
export async function writeReports(dir: string, results: CompareResults): Promise<void> {
  await writeFileAtomic(path.join(dir, 'results.json'), JSON.stringify({ ...results, summary: summarize(results), ...(results.baselineRuns?.length ? { baselineSummary: baselineSummary(results) } : {}) }, null, 2) + '\n');
  await writeFileAtomic(path.join(dir, 'results.md'), markdownReport(results));
  await writeFileAtomic(path.join(dir, 'report.html'), htmlReport(results));
  // checksums of the three reports (the runs/ directory holds its own checksummed result.json files)
  await writeManifest(dir, 'semrec-compare', { only: ['results.json', 'results.md', 'report.html'] });
}
