/** The dashboard's pages, as HTML strings from data (no I/O): the overview and one train. */
import type { TimelineEntry, TrainDossier } from '../core/dossier';
import { formatMs, type Explanation } from '../core/explain';
import type { KpiValue, TrainFacts } from '../core/kpi';
import type { CostLine, CostReport } from '../core/llm-cost';
import type { Waterfall } from '../core/trace-view';
import { esc, page, table, td, tdHtml, tiles, trendLine } from './html';
import type { MigrationReading } from './migrations';

/** What a running train looks like right now, as Temporal's status query says (cli/release.ts queryStatus). */
export interface LiveTrain {
  stage: string;
  weight: number;
  outcome?: string;
  evalScore?: number;
  waitingFor?: string;
  /** A promotion path's environments at a glance (`dev promoted → staging rolling-out → prod pending`). */
  path?: string;
  /** The train's and its rollout's entries, oldest first. */
  timeline: TimelineEntry[];
  lastProbe?: { verdict: string; weight: number; canary: { requests: number; errors: number; p95Ms: number }; stable: { p95Ms: number }; reasons: string[] };
}

export interface OverviewData {
  period: { since: number; until: number };
  trains: TrainDossier['train'][];
  facts: TrainFacts[];
  kpis: KpiValue[];
  trend: { since: number; kpis: KpiValue[] }[];
}

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');
const trainState = (t: TrainDossier['train']) => (t.state === 'running' ? 'running' : (t.outcome ?? 'closed'));

export function overviewPage(d: OverviewData): string {
  const facts = new Map(d.facts.map((f) => [f.id, f]));
  const evalScores = d.facts.filter((f) => f.evalScore !== null).map((f) => f.evalScore!);
  const figures: [string, unknown][] = [
    ['trains', String(d.trains.length)],
    ['running', String(d.trains.filter((t) => t.state === 'running').length)],
    ['promoted', String(d.trains.filter((t) => t.outcome === 'promoted').length)],
    ['rolled back', String(d.trains.filter((t) => t.outcome === 'rolled_back').length)],
    ['denied', String(d.trains.filter((t) => t.outcome === 'denied').length)],
    ['Eval Score (mean)', evalScores.length ? (evalScores.reduce((a, b) => a + b, 0) / evalScores.length).toFixed(3) : 'n/a'],
    // The KPI's own figure: one definition of $ per PR.
    ['$ per PR', d.kpis.find((k) => k.id === 'cost_per_pr_usd')?.display ?? 'n/a'],
  ];
  const trains = table(
    ['train', 'service', 'env', 'title', 'author', 'state', 'Eval Score', 'MTTR', 'cost', 'started'],
    d.trains.map((t) => {
      const f = facts.get(t.id);
      return [
        tdHtml(`<a href="/trains/${encodeURIComponent(t.id)}">${esc(t.id)}</a>`),
        td(t.service),
        td(t.environment),
        td(t.title),
        td(t.author),
        td(trainState(t).replace('_', ' '), trainState(t)),
        td(f?.evalScore?.toFixed(3) ?? '', 'num'),
        td(f?.mttrMs != null ? formatMs(f.mttrMs) : '', 'num'),
        td(f && f.costUsd > 0 ? `$${f.costUsd.toFixed(4)}` : '', 'num'),
        td(when(t.startedAt)),
      ];
    }),
    'id="trains"',
  );
  const kpis = table(
    ['KPI', 'value', 'target', 'trains', 'trend', 'definition'],
    d.kpis.map((k) => [
      td(k.name),
      td(k.display, k.met === null ? '' : k.met ? 'met' : 'missed'),
      td(k.target),
      td(k.n, 'num'),
      tdHtml(trendLine(d.trend.map((b) => b.kpis.find((x) => x.id === k.id)?.value ?? null), k.id)),
      td(k.note ? `${k.definition} (${k.note})` : k.definition),
    ]),
    'id="kpis"',
  );
  const spenders = spendBy(d.trains, facts, (t) => t.author);
  const services = spendBy(d.trains, facts, (t) => t.service);
  const body = `<h1>Release trains</h1>
<p>Trains started ${esc(new Date(d.period.since).toISOString().slice(0, 16))} … ${esc(new Date(d.period.until).toISOString().slice(0, 16))} UTC (<a href="/?since=24h">24 h</a> · <a href="/?since=7d">7 days</a> · <a href="/?since=4w">4 weeks</a>)</p>
<p><a href="/migrations">Database migrations</a> · <a href="/cost" id="cost-link">LLM spend by stage, model and cache outcome</a></p>
${tiles('tiles', figures)}
<h2>KPIs</h2>${kpis}
<h2>Trains</h2>${trains}
<h2>Spend in the period</h2>
<div style="display:flex;gap:24px"><div style="flex:1"><h3>by author</h3>${spenders}</div><div style="flex:1"><h3>by service</h3>${services}</div></div>`;
  return page('Release trains', body, 'setTimeout(() => location.reload(), 10000);');
}

/** The biggest spenders first; ties by name. */
function spendBy(trains: TrainDossier['train'][], facts: Map<string, TrainFacts>, key: (t: TrainDossier['train']) => string): string {
  const sums = new Map<string, { usd: number; trains: number; merged: number }>();
  for (const t of trains) {
    const f = facts.get(t.id);
    const s = sums.get(key(t)) ?? { usd: 0, trains: 0, merged: 0 };
    s.usd += f?.costUsd ?? 0;
    s.trains += 1;
    s.merged += f?.mergedAt != null ? 1 : 0;
    sums.set(key(t), s);
  }
  const rows = [...sums.entries()].sort((a, b) => b[1].usd - a[1].usd || a[0].localeCompare(b[0]));
  return table(
    ['who', 'spend', 'trains', '$ per merged'],
    rows.map(([k, s]) => [td(k), td(`$${s.usd.toFixed(4)}`, 'num'), td(s.trains, 'num'), td(s.merged ? `$${(s.usd / s.merged).toFixed(4)}` : 'n/a', 'num')]),
  );
}

export function trainPage(d: TrainDossier, explanation: Explanation, live?: LiveTrain): string {
  const t = d.train;
  const lastEval = d.evals.at(-1);
  const evalTile = lastEval
    ? `<div class="tile" id="eval-score"><div class="v ${lastEval.passed ? 'met' : 'missed'}">${lastEval.score.toFixed(3)}</div><div class="l">Eval Score (threshold ${esc(lastEval.threshold)}) ${lastEval.passed ? 'passed' : 'FAILED'}</div></div>`
    : '';
  const stages = table(
    ['stage', 'status', 'started', 'took', 'detail'],
    d.stages.map((s) => [td(s.name), td(s.status), td(when(s.startedAt)), td(s.finishedAt ? formatMs(Date.parse(s.finishedAt) - Date.parse(s.startedAt)) : 'running', 'num'), td(s.detail)]),
    'id="stages"',
  );
  const checks = lastEval
    ? table(
        ['check', 'score', 'result', 'why'],
        lastEval.checks.map((c) => [td(c.check), td(c.score.toFixed(2), 'num'), td(c.passed ? 'pass' : 'FAIL', c.passed ? 'met' : 'missed'), td(c.explanation)]),
        'id="checks"',
      )
    : '<p>No eval result (yet).</p>';
  const explained = `<div class="headline" id="explanation"><strong>${esc(explanation.headline)}</strong>${explanation.sections
    .map((s) => `<h3>${esc(s.title)}</h3><pre>${esc(s.lines.join('\n'))}</pre>`)
    .join('')}</div>`;
  const livePanel =
    t.state === 'running'
      ? `<h2>Live</h2><div id="live" data-train="${esc(t.id)}" data-stage="${esc(live?.stage ?? '')}"><div class="tile"><div class="v" id="live-stage">…</div><div class="l">stage</div></div><div class="tile"><div class="v" id="live-weight">…</div><div class="l">canary weight</div></div><div class="tile"><div class="v" id="live-probe">…</div><div class="l">last probe</div></div><table><thead><tr><th>time</th><th>event</th><th>by</th><th>detail</th></tr></thead><tbody id="live-timeline"></tbody></table></div>`
      : '';
  const body = `<h1>${esc(t.title)}</h1>
<p>${esc(t.id)} · ${esc(t.service)} → ${esc(t.environment)} · by ${esc(t.author)} · <span class="${esc(trainState(t))}" id="state">${esc(trainState(t).replace('_', ' '))}</span>${t.mergeSha ? ` · merged ${esc(t.mergeSha.slice(0, 12))}` : ''} · <a href="/trains/${encodeURIComponent(t.id)}/trace" id="trace-link">trace</a></p>
${evalTile}${livePanel}
<h2>Why</h2>${explained}
<h2>Stages</h2>${stages}
<h2>Eval checks</h2>${checks}`;
  return page(t.title, body, t.state === 'running' ? liveScript : '');
}

/** Polls the live endpoint once a second while the train runs; reloads when the stage changes or the train ends, to show the record. */
const liveScript = `
const root = document.getElementById('live');
const id = root.dataset.train;
const text = (el, v) => { document.getElementById(el).textContent = v; };
async function tick() {
  try {
    const r = await fetch('/api/trains/' + encodeURIComponent(id) + '/live');
    if (r.ok) {
      const s = await r.json();
      text('live-stage', s.stage + (s.waitingFor ? ' (waiting for ' + s.waitingFor + ')' : '') + (s.path ? ' · ' + s.path : ''));
      text('live-weight', s.weight + '%');
      const p = s.lastProbe;
      text('live-probe', p ? p.verdict + ' at ' + p.weight + '%: ' + p.canary.requests + ' req, ' + p.canary.errors + ' err, p95 ' + p.canary.p95Ms.toFixed(1) + ' ms' : 'none yet');
      const body = document.getElementById('live-timeline');
      body.replaceChildren(...s.timeline.map((h) => {
        const tr = document.createElement('tr');
        for (const v of [new Date(h.at).toISOString().slice(11, 23), h.kind, h.by || '', h.detail]) { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); }
        return tr;
      }));
      // A new stage (or the end) has new figures in the record: show them.
      if (s.stage !== root.dataset.stage) { setTimeout(() => location.reload(), s.stage === 'done' ? 1500 : 0); return; }
    }
  } catch (e) { /* the server restarted: try again */ }
  setTimeout(tick, 1000);
}
tick();
`;

export interface MigrationRow {
  train: TrainDossier['train'];
  name: string;
  reading: MigrationReading;
}

/** Rows of the migrations table; the page renders them once and its script re-renders them from /api/migrations. */
export function migrationCells(m: MigrationRow): string[] {
  const link = tdHtml(`<a href="/trains/${encodeURIComponent(m.train.id)}">${esc(m.train.id)}</a>`);
  if ('error' in m.reading) return [link, td(m.name), td('unreadable', 'missed'), td(''), td(''), td(''), td(''), td(''), td(''), td(m.reading.error)];
  const p = m.reading.progress;
  const done = p.rowsTotal > 0 ? Math.min(1, p.rowsDone / p.rowsTotal) : p.phase === 'backfilling' ? 0 : 1;
  return [
    link,
    td(`${p.name} (${p.fromVersion} → ${p.toVersion})`),
    td(p.readsFrom === 'old' ? `${p.phase} · the new version reads the old shape` : p.phase, p.phase === 'rolled_back' || p.phase === 'rolling_back' ? 'missed' : p.phase === 'completed' || p.phase === 'ready' ? 'met' : 'running'),
    tdHtml(`<progress max="1" value="${done.toFixed(4)}"></progress> ${esc((done * 100).toFixed(1))}%`),
    td(p.rowsLeft, 'num'),
    td(p.rate > 0 ? `${Math.round(p.rate)} rows/s` : '', 'num'),
    td(p.etaSeconds !== null ? formatMs(p.etaSeconds * 1000) : '', 'num'),
    td(p.lockWaits, 'num'),
    td(p.errors, 'num'),
    td(p.lastError ?? ''),
  ];
}

export const MIGRATION_HEADERS = ['train', 'migration', 'phase', 'done', 'rows left', 'rate', 'ETA', 'lock waits', 'errors', 'last error'];

export function migrationsPage(rows: MigrationRow[]): string {
  const body = `<h1>Database migrations</h1>
<p>Every migration a train in the last 7 days carries, read live from its database (expanding → backfilling → validating → ready → contracting → completed, or rolling back).</p>
${table(MIGRATION_HEADERS, rows.map(migrationCells), 'id="migrations"')}`;
  return page('Database migrations', body, migrationsScript);
}

/** Re-renders the table from /api/migrations once a second (the server renders the cells: one way to draw them). */
const migrationsScript = `
async function tick() {
  try {
    const r = await fetch('/api/migrations?cells=1');
    if (r.ok) document.querySelector('#migrations tbody').innerHTML = (await r.json()).rows.map((cells) => '<tr>' + cells.join('') + '</tr>').join('');
  } catch (e) { /* the server restarted: try again */ }
  setTimeout(tick, 1000);
}
setTimeout(tick, 1000);
`;

/** Where a train's trace was read from, for the page to say. */
export interface TraceData {
  trainId: string;
  source: string;
  waterfall: Waterfall;
}

/** Dollars: 4 decimals from a cent up, 6 below (LLM calls cost fractions of one) unless `digits` says. */
const usd = (n: number | null, digits = n !== null && n >= 0.01 ? 4 : 6) => (n === null ? 'n/a' : `$${n.toFixed(digits)}`);

/** One train's trace as a waterfall: a row per span (tree order, indented), a bar on the train's time axis, and the LLM model, tokens and cost on the spans that made a call. */
export function tracePage(d: TraceData): string {
  const w = d.waterfall;
  const total = Math.max(w.totalMs, 1);
  const figures: [string, unknown][] = [
    ['spans', String(w.rows.length)],
    ['duration', formatMs(w.totalMs)],
    ['LLM calls', String(w.llmCalls)],
    ['tokens', String(w.tokens)],
    ['LLM cost', usd(w.costUsd)],
  ];
  const rows = w.rows.map((r) => {
    const left = (r.offsetMs / total) * 100;
    const width = Math.max((r.span.durationMs / total) * 100, 0.3);
    const bar = `<div class="bar-track"><div class="bar${r.span.error ? ' err' : r.llm ? ' llm' : ''}" style="margin-left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></div></div>`;
    const llm = r.llm ? [r.llm.model, r.llm.inputTokens !== undefined ? `${r.llm.inputTokens} in / ${r.llm.outputTokens ?? 0} out tokens` : undefined, r.llm.costUsd !== undefined ? usd(r.llm.costUsd) : undefined].filter(Boolean).join(' · ') : '';
    return [
      tdHtml(`<span style="padding-left:${r.depth * 14}px">${esc(r.span.name)}</span>`, r.span.error ? 'failed span' : 'span'),
      td(r.span.service),
      tdHtml(bar),
      td(formatMs(r.span.durationMs), 'num'),
      td(llm, r.llm ? 'llm-cell' : ''),
    ];
  });
  const body = `<h1>Trace of ${esc(d.trainId)}</h1>
<p>trace <code id="trace-id">${esc(w.traceId)}</code> · from ${esc(d.source)} · <a href="/trains/${encodeURIComponent(d.trainId)}">the train</a></p>
${tiles('trace-tiles', figures)}
${table(['span', 'service', 'timeline', 'took', 'LLM'], rows, 'id="waterfall"')}
<style>td.num{white-space:nowrap}.bar-track{width:360px;background:#eef0f4;height:10px}.bar{height:10px;background:#1f5fbf}.bar.llm{background:#93670b}.bar.err{background:#b42318}</style>`;
  return page(`Trace ${d.trainId}`, body);
}

export interface CostPageData {
  period: { since: number; until: number };
  report: CostReport;
}

/** LLM spend from the gateway's ledger ($/PR and $/train, and where it went: stage, model, cache outcome, call type), the figures of `maestro cost`. */
export function costPage(d: CostPageData): string {
  const r = d.report;
  // One precision on the spend page, so its figures line up.
  const dollars = (n: number | null) => usd(n, 6);
  const figures: [string, unknown][] = [
    ['$ per PR', dollars(r.perPrUsd)],
    ['$ per train', dollars(r.perTrainUsd)],
    ['LLM spend', dollars(r.totalUsd)],
    ['calls', String(r.calls)],
    ['cache hit rate', r.cacheHitRate === null ? 'n/a' : `${(100 * r.cacheHitRate).toFixed(1)}%`],
  ];
  const breakdown = (title: string, id: string, lines: CostLine[]) =>
    `<div style="flex:1;min-width:420px"><h3>${esc(title)}</h3>${table(
      [title.replace(/^by /, ''), 'calls', 'tokens in', 'tokens out', 'spend', 'share'],
      lines.map((l) => [td(l.key), td(l.calls, 'num'), td(l.tokensIn, 'num'), td(l.tokensOut, 'num'), td(dollars(l.costUsd), 'num'), td(r.totalUsd > 0 ? `${((100 * l.costUsd) / r.totalUsd).toFixed(1)}%` : '', 'num')]),
      `id="${id}"`,
    )}</div>`;
  const body = `<h1>LLM spend</h1>
<p>${esc(when(new Date(d.period.since).toISOString()))} → ${esc(when(new Date(d.period.until).toISOString()))} · ${r.trains} train${r.trains === 1 ? '' : 's'}, ${r.prs} merged (PR${r.prs === 1 ? '' : 's'}) · from the gateway's ledger, dollars as recorded from the dated price table</p>
${tiles('cost-tiles', figures)}
<div style="display:flex;flex-wrap:wrap;gap:24px">${breakdown('by stage', 'by-stage', r.byStage)}${breakdown('by model', 'by-model', r.byModel)}${breakdown('by cache outcome', 'by-cache', r.byCache)}${breakdown('by call type', 'by-call-type', r.byCallType)}</div>`;
  return page('LLM spend', body);
}
