/** The dashboard's HTML building blocks: escaping, the page frame, tables and trend lines as inline SVG. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Every value that reaches a page goes through here: train titles, reasons and details are user text. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Maestro</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
header{background:#1d2433;color:#fff;padding:10px 24px}header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:16px 24px;max-width:1200px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;background:#fff;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eef0f4;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.promoted,.met{color:#17803d}.rolled_back,.failed,.missed,.denied{color:#b42318}.aborted{color:#93670b}.running{color:#1f5fbf}
.tile{display:inline-block;background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:10px 16px;margin:0 12px 12px 0;min-width:140px}
.tile .v{font-size:24px;font-weight:600}.tile .l{color:#5b6475;font-size:12px}
.headline{background:#fff;border-left:4px solid #1d2433;padding:10px 14px}pre{white-space:pre-wrap}
svg.trend{vertical-align:middle}
</style></head>
<body><header><a href="/">Maestro Conductor</a></header><main>${body}</main>${script ? `<script>${script}</script>` : ''}</body></html>`;
}

/** A row of figure tiles (value over label), the dashboard's one way to show headline numbers. */
export function tiles(id: string, entries: readonly (readonly [label: string, value: unknown])[]): string {
  return `<div id="${esc(id)}">${entries.map(([label, value]) => `<div class="tile"><div class="v">${esc(value)}</div><div class="l">${esc(label)}</div></div>`).join('')}</div>`;
}

export function table(headers: string[], rows: string[][], attrs = ''): string {
  return `<table ${attrs}><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export const td = (value: unknown, cls = '') => `<td${cls ? ` class="${esc(cls)}"` : ''}>${esc(value)}</td>`;
/** A cell whose content is already HTML (a link, an SVG). */
export const tdHtml = (html: string, cls = '') => `<td${cls ? ` class="${esc(cls)}"` : ''}>${html}</td>`;

/**
 * A trend line of one KPI over consecutive buckets (null: no value in that bucket, a gap). Scaled to its own
 * range; the points carry their values as titles so the figure can be read, not only seen.
 */
export function trendLine(points: (number | null)[], label: string, width = 160, height = 32): string {
  const values = points.filter((p): p is number => p !== null);
  if (values.length === 0) return `<svg class="trend" width="${width}" height="${height}" data-kpi="${esc(label)}" data-points="0"></svg>`;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const x = (i: number) => (points.length === 1 ? width / 2 : (i / (points.length - 1)) * (width - 6) + 3);
  const y = (v: number) => (hi === lo ? height / 2 : height - 3 - ((v - lo) / (hi - lo)) * (height - 6));
  const segments: string[] = [];
  let current: string[] = [];
  points.forEach((p, i) => {
    if (p === null) {
      if (current.length) segments.push(current.join(' '));
      current = [];
    } else current.push(`${x(i).toFixed(1)},${y(p).toFixed(1)}`);
  });
  if (current.length) segments.push(current.join(' '));
  const dots = points
    .map((p, i) => (p === null ? '' : `<circle cx="${x(i).toFixed(1)}" cy="${y(p).toFixed(1)}" r="2"><title>${esc(label)}: ${esc(p)}</title></circle>`))
    .join('');
  return `<svg class="trend" width="${width}" height="${height}" data-kpi="${esc(label)}" data-points="${values.length}">${segments
    .map((s) => `<polyline fill="none" stroke="#1f5fbf" stroke-width="1.5" points="${s}"/>`)
    .join('')}${dots}</svg>`;
}
