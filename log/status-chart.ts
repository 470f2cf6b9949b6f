// The status page's chart of entries per minute: an inline SVG bar chart rendered on the server
// (no script, no external image), so it shows under the pages' strict CSP and without JavaScript.
import { html, type SafeHtml } from '../platform/page.ts';
import type { MinuteBucket } from './checkpoint-history.ts';

const WIDTH = 720;
const HEIGHT = 200;
const LEFT = 44;
const BOTTOM = 22;
const TOP = 10;

function hhmm(d: Date): string {
  return d.toISOString().slice(11, 16);
}

// niceMax rounds the largest bucket up to 1, 2 or 5 times a power of ten, for a readable axis.
function niceMax(max: bigint): bigint {
  if (max <= 0n) return 1n;
  let p = 1n;
  while (p * 10n < max) p *= 10n;
  for (const m of [1n, 2n, 5n, 10n]) if (max <= m * p) return m * p;
  return 10n * p;
}

/**
 * renderEntriesChart draws `buckets` (oldest first) as bars, with the y axis scaled to the busiest
 * minute and a time label (UTC) every 10 bars. Each bar has a <title> with its minute and count.
 */
export function renderEntriesChart(buckets: readonly MinuteBucket[]): SafeHtml {
  const max = niceMax(buckets.reduce((m, b) => (b.entries > m ? b.entries : m), 0n));
  const plotW = WIDTH - LEFT - 8;
  const plotH = HEIGHT - TOP - BOTTOM;
  const step = plotW / Math.max(buckets.length, 1);
  const bars = buckets.map((b, i) => {
    const h = Number((b.entries * 10_000n) / max) / 10_000 * plotH;
    const x = LEFT + i * step;
    const y = TOP + plotH - h;
    const label = i % 10 === 0 ? html`<text x="${x.toFixed(1)}" y="${HEIGHT - 6}">${hhmm(b.start)}</text>` : '';
    return html`<rect class="bar" x="${(x + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(step - 2, 1).toFixed(1)}" height="${h.toFixed(1)}"><title>${hhmm(b.start)} UTC: ${String(b.entries)} entries</title></rect>${label}`;
  });
  const total = buckets.reduce((t, b) => t + b.entries, 0n);
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="entries per minute, ${String(total)} in the last ${buckets.length} minutes" data-total="${String(total)}">
<line class="axis" x1="${LEFT}" y1="${TOP + plotH}" x2="${WIDTH - 8}" y2="${TOP + plotH}"></line>
<line class="axis" x1="${LEFT}" y1="${TOP}" x2="${WIDTH - 8}" y2="${TOP}"></line>
<text x="4" y="${TOP + 10}">${String(max)}</text><text x="4" y="${TOP + plotH}">0</text>
${bars}
</svg>`;
}
