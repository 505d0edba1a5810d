/**
 * Reports of a comparison: `results.json` (every run, every metric, config, timing), `results.md`
 * (mean ± std per scheme) and `report.html` (self-contained; inline SVG charts of each metric per
 * scheme with ±1 std error bars, and codebook utilisation per level). Written atomically.
 */
import path from 'node:path';
import { writeFileAtomic } from '../../quantizer/atomic.js';
import { writeManifest } from '../../quantizer/manifest.js';
import type { CompareResults, RunResult } from './harness.js';

/** Mean and sample standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

/** Metric columns of the tables and charts. */
export const METRICS: { key: string; label: string; get: (r: RunResult) => number }[] = [
  { key: 'recall5', label: 'Recall@5', get: (r) => r.eval.model.recall[5] },
  { key: 'ndcg5', label: 'NDCG@5', get: (r) => r.eval.model.ndcg[5] },
  { key: 'recall10', label: 'Recall@10', get: (r) => r.eval.model.recall[10] },
  { key: 'ndcg10', label: 'NDCG@10', get: (r) => r.eval.model.ndcg[10] },
  { key: 'coverage10', label: 'coverage@10', get: (r) => r.eval.model.coverage },
];

/** Per-scheme aggregate. */
export interface SchemeSummary {
  scheme: string;
  runs: number;
  metrics: Record<string, { mean: number; std: number }>;
  invalidRate: number;
  latencyP50Ms: number;
  indexSeconds: number;
  trainSeconds: number;
  collisions: number;
  /** Mean utilisation per level. */
  utilisation: number[];
}

/** Aggregate runs by scheme (in the order schemes were given). */
export function summarize(results: CompareResults): SchemeSummary[] {
  return results.config.schemes.map((scheme) => {
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
    };
  });
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
      `Generator: ${results.config.arch}; ${results.config.seeds} seed(s) per scheme; ${results.config.split} split${results.config.limit ? `, a seeded random sample of ${results.config.limit} users (seed 0, the same users in every run)` : ''}; beam ${results.config.beamWidth}. Mean ± sample std over seeds.`,
    ``,
    `| scheme | runs | ${METRICS.map((m) => m.label).join(' | ')} | invalid | collisions | index s | train s |`,
    `|---|---|${METRICS.map(() => '---').join('|')}|---|---|---|---|`,
    ...sum.map(
      (s) =>
        `| ${s.scheme} | ${s.runs} | ${METRICS.map((m) => `${f4(s.metrics[m.key].mean)} ± ${f4(s.metrics[m.key].std)}`).join(' | ')} | ${s.invalidRate} | ${Math.round(s.collisions)} | ${s.indexSeconds.toFixed(1)} | ${s.trainSeconds.toFixed(1)} |`,
    ),
  ];
  const baselines = results.baselines ?? (pop ? [{ name: 'popularity', metrics: pop, invalidRate: 0 }] : []);
  for (const b of baselines) lines.push(`| ${b.name} (baseline) | — | ${f4(b.metrics.recall[5])} | ${f4(b.metrics.ndcg[5])} | ${f4(b.metrics.recall[10])} | ${f4(b.metrics.ndcg[10])} | ${f4(b.metrics.coverage)} | ${b.invalidRate} | — | — | — |`);
  if (results.baselines?.some((b) => b.name === 'markov')) lines.push('', 'markov: first-order transitions over item ids (most frequent next items of the last history item, then popularity); not constrained by the IDs.');
  lines.push('', `Codebook utilisation per level (share of codes used):`, '', '| scheme | utilisation by level |', '|---|---|');
  for (const s of sum) lines.push(`| ${s.scheme} | ${s.utilisation.map((u) => u.toFixed(2)).join(' / ')} |`);
  return lines.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** One grouped bar chart: a group per category, a bar per series, optional error bars. */
export function barChart(title: string, categories: string[], series: { name: string; values: number[]; errors?: number[] }[], yMax?: number): string {
  const W = 640;
  const H = 260;
  const m = { l: 56, r: 12, t: 28, b: 48 };
  const top = yMax ?? Math.max(1e-9, ...series.flatMap((s) => s.values.map((v, i) => v + (s.errors?.[i] ?? 0)))) * 1.1;
  const gw = (W - m.l - m.r) / Math.max(1, categories.length);
  const bw = (gw * 0.8) / Math.max(1, series.length);
  const y = (v: number) => m.t + (H - m.t - m.b) * (1 - v / top);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let t = 0; t <= 4; t++) {
    const v = (top * t) / 4;
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/><text x="${m.l - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="10">${v.toPrecision(2)}</text>`);
  }
  categories.forEach((c, ci) => {
    const gx = m.l + ci * gw + gw * 0.1;
    series.forEach((s, si) => {
      const v = s.values[ci] ?? 0;
      const x = gx + si * bw;
      parts.push(`<rect class="bar" x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw * 0.9).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.name} · ${c}: ${v.toFixed(4)}${s.errors ? ` ± ${s.errors[ci].toFixed(4)}` : ''}`)}</title></rect>`);
      const e = s.errors?.[ci];
      if (e) {
        const cx = (x + (bw * 0.9) / 2).toFixed(1);
        parts.push(`<path class="err" d="M${cx} ${y(v + e).toFixed(1)}V${y(Math.max(0, v - e)).toFixed(1)}M${(+cx - 4).toFixed(1)} ${y(v + e).toFixed(1)}h8M${(+cx - 4).toFixed(1)} ${y(Math.max(0, v - e)).toFixed(1)}h8" stroke="#222" fill="none"/>`);
      }
    });
    parts.push(`<text x="${(m.l + ci * gw + gw / 2).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${esc(c)}</text>`);
  });
  series.forEach((s, si) => {
    const lx = m.l + si * 150;
    parts.push(`<rect x="${lx}" y="${H - 16}" width="10" height="10" fill="${PALETTE[si % PALETTE.length]}"/><text x="${lx + 14}" y="${H - 7}" font-size="11">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** The self-contained HTML report. */
export function htmlReport(results: CompareResults): string {
  const sum = summarize(results);
  const names = sum.map((s) => s.scheme);
  const metricChart = barChart(
    'Ranking metrics per scheme (mean ± std over seeds)',
    METRICS.slice(0, 4).map((m) => m.label),
    sum.map((s) => ({ name: s.scheme, values: METRICS.slice(0, 4).map((m) => s.metrics[m.key].mean), errors: METRICS.slice(0, 4).map((m) => s.metrics[m.key].std) })),
  );
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
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:960px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.chart{display:block;margin:1.5em 0}</style>
</head><body>
<h1>Indexing schemes compared</h1>
<p>Data: ${esc(results.data.dir)} — ${results.data.users} users, ${results.data.items} items, ${results.data.interactions} interactions.
Generator: ${esc(results.config.arch)}; ${results.config.seeds} seed(s) per scheme; ${esc(results.config.split)} split; beam ${results.config.beamWidth}.</p>
${metricChart}
${coverageChart}
${utilChart}
${
    results.baselines?.length
      ? `<h2>Baselines (same users)</h2>
<table id="baselines"><thead><tr><th>ranker</th>${METRICS.slice(0, 4).map((m) => `<th>${m.label}</th>`).join('')}<th>coverage@10</th></tr></thead><tbody>
${results.baselines.map((b) => `<tr><td>${esc(b.name)}</td><td>${b.metrics.recall[5].toFixed(4)}</td><td>${b.metrics.ndcg[5].toFixed(4)}</td><td>${b.metrics.recall[10].toFixed(4)}</td><td>${b.metrics.ndcg[10].toFixed(4)}</td><td>${b.metrics.coverage.toFixed(4)}</td></tr>`).join('\n')}
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
  var ok = charts.length === 3;
  charts.forEach(function (c) { ok = ok && c.querySelectorAll('rect.bar').length > 0 && c.getBBox().width > 0; });
  document.body.setAttribute('data-rendered', ok ? 'ok' : 'broken');
})();
</script>
</body></html>
`;
}

/** Write results.json, results.md and report.html into `dir`. */
export async function writeReports(dir: string, results: CompareResults): Promise<void> {
  await writeFileAtomic(path.join(dir, 'results.json'), JSON.stringify({ ...results, summary: summarize(results) }, null, 2) + '\n');
  await writeFileAtomic(path.join(dir, 'results.md'), markdownReport(results));
  await writeFileAtomic(path.join(dir, 'report.html'), htmlReport(results));
  // checksums of the three reports (the runs/ directory holds its own checksummed result.json files)
  await writeManifest(dir, 'semrec-compare', { only: ['results.json', 'results.md', 'report.html'] });
}
