/**
 * Inline SVG charts of the comparison report (no scripts or styles from elsewhere): grouped bars
 * (coverage, utilisation — quantities that start at zero) and dot plots with 95 % intervals on
 * an axis fitted to the data (ranking metrics, where differences of a few percent matter).
 */

/** Escape text for HTML / SVG. */
export const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** Approximate width of one character of the 11 px label font (for layout). */
const CHAR_W = 6.4;
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** One grouped bar chart: a group per category, a bar per series, optional error bars. */
export function barChart(title: string, categories: string[], series: { name: string; values: number[]; errors?: number[] }[], yMax?: number): string {
  const W = 640;
  const m = { l: 56, r: 12, t: 28, b: 0 };
  const gw = (W - m.l - m.r) / Math.max(1, categories.length);
  // category labels: level when they fit their group, else slanted (−30°) so long scheme names
  // do not run into each other; the legend wraps into rows. The bottom margin makes room for both.
  const textW = (t: string) => t.length * CHAR_W;
  const longest = Math.max(0, ...categories.map(textW));
  const slant = longest > gw * 0.95;
  const labelH = slant ? Math.ceil(longest * 0.5) + 18 : 20;
  const legend: { x: number; row: number }[] = [];
  let lx = m.l;
  let row = 0;
  for (const s of series) {
    const w = 14 + textW(s.name) + 18;
    if (lx > m.l && lx + w > W - m.r) {
      lx = m.l;
      row++;
    }
    legend.push({ x: lx, row });
    lx += w;
  }
  m.b = labelH + 8 + (row + 1) * 16;
  const H = m.t + 184 + m.b;
  const top = yMax ?? Math.max(1e-9, ...series.flatMap((s) => s.values.map((v, i) => v + (s.errors?.[i] ?? 0)))) * 1.1;
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
    const cx = (m.l + ci * gw + gw / 2).toFixed(1);
    const cy = H - m.b + 16;
    parts.push(slant ? `<text x="${cx}" y="${cy}" transform="rotate(-30 ${cx} ${cy})" text-anchor="end" font-size="11">${esc(c)}</text>` : `<text x="${cx}" y="${cy}" text-anchor="middle" font-size="11">${esc(c)}</text>`);
  });
  series.forEach((s, si) => {
    const { x, row: r } = legend[si];
    const ly = H - m.b + labelH + 8 + r * 16;
    parts.push(`<rect x="${x.toFixed(1)}" y="${ly}" width="10" height="10" fill="${PALETTE[si % PALETTE.length]}"/><text x="${(x + 14).toFixed(1)}" y="${ly + 9}" font-size="11">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}


/** Two-sided 95 % Student t quantiles for 1..20 degrees of freedom. */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086];

/** Mean with a 95 % t interval over n runs (no interval for one run). */
export function tInterval(mean: number, std: number, n: number): { mean: number; lo: number; hi: number } {
  if (n < 2) return { mean, lo: mean, hi: mean };
  const t = n - 1 <= T95.length ? T95[n - 2] : 1.96 + 2.4 / (n - 1);
  const h = (t * std) / Math.sqrt(n);
  return { mean, lo: mean - h, hi: mean + h };
}

/** Ticks at round steps covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const span = Math.max(hi - lo, 1e-9);
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(+v.toPrecision(12));
  return out;
}

/**
 * A dot plot: one row per entry, a dot at the mean and a whisker for its interval; baselines as
 * hollow diamonds. The axis is fitted to the data (it does not start at zero, and says so).
 */
export function dotPlot(title: string, rows: { name: string; mean: number; lo: number; hi: number; baseline?: boolean }[]): string {
  const W = 640;
  const rowH = 24;
  const m = { l: 190, r: 20, t: 30, b: 40 };
  const H = m.t + m.b + rowH * Math.max(1, rows.length);
  let lo = Math.min(...rows.map((r) => r.lo));
  let hi = Math.max(...rows.map((r) => r.hi));
  const pad = Math.max((hi - lo) * 0.08, Math.abs(hi) * 0.01, 1e-6);
  lo = Math.max(0, lo - pad);
  hi += pad;
  const x = (v: number) => m.l + ((W - m.l - m.r) * (v - lo)) / (hi - lo);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (const v of ticks(lo, hi)) {
    parts.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${m.t}" y2="${H - m.b}" stroke="#e4e4e4"/><text x="${x(v).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${v.toPrecision(3)}</text>`);
  }
  parts.push(`<text x="${W - m.r}" y="${H - 6}" text-anchor="end" font-size="10" fill="#666">${lo > 0 ? `axis from ${lo.toPrecision(3)}, not 0` : 'axis from 0'}</text>`);
  rows.forEach((r, i) => {
    const y = m.t + rowH * i + rowH / 2;
    const color = r.baseline ? '#555' : PALETTE[i % PALETTE.length];
    parts.push(`<text x="${m.l - 8}" y="${y + 4}" text-anchor="end" font-size="11">${esc(r.name)}</text>`);
    if (r.hi > r.lo) parts.push(`<line class="ci" x1="${x(r.lo).toFixed(1)}" x2="${x(r.hi).toFixed(1)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    const tip = `<title>${esc(`${r.name}: ${r.mean.toFixed(4)}${r.hi > r.lo ? ` [${r.lo.toFixed(4)}, ${r.hi.toFixed(4)}]` : ''}`)}</title>`;
    if (r.baseline) {
      const cx = x(r.mean);
      parts.push(`<path class="dot baseline" d="M${(cx - 5).toFixed(1)} ${y}L${cx.toFixed(1)} ${y - 5}L${(cx + 5).toFixed(1)} ${y}L${cx.toFixed(1)} ${y + 5}Z" fill="#fff" stroke="${color}" stroke-width="1.5">${tip}</path>`);
    } else {
      parts.push(`<circle class="dot" cx="${x(r.mean).toFixed(1)}" cy="${y}" r="4.5" fill="${color}">${tip}</circle>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}
