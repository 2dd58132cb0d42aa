/**
 * Gates as metric templates (issue 11): each template is a PromQL query for one version and either a
 * threshold range with how many failed checks it tolerates (the shape of Flagger's MetricTemplate and Argo
 * Rollouts' AnalysisTemplate) or a judge: the same query for stable beside the canary's, readings judged
 * canary against stable over the gate's window (core/judge.ts judgeSeries). A health source that speaks PromQL
 * (delivery/prometheus-health.ts) renders and runs them at every probe; the gate judges the readings it returns,
 * and each reading keeps the query it ran and the raw value it got, so a failed gate says exactly why.
 */
import { z } from 'zod';
import { durationMs } from './durations';
import { judgeSeries, SERIES_READINGS_CAP, seriesJudgeSchema, type SeriesEvidence, type SeriesJudge, type SeriesWindow } from './judge';

/** `{{service}}`, `{{role}}` (stable | canary), `{{upstream}}` (the version's address) and `{{interval}}`. */
export const TEMPLATE_PLACEHOLDERS = ['service', 'role', 'upstream', 'interval'] as const;
type Placeholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

export const metricTemplateSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "a lower-case name like 'request-success-rate'"),
    /** PromQL returning one number for the version named by the placeholders. */
    query: z
      .string()
      .min(1)
      .max(4000)
      .superRefine((query, ctx) => {
        for (const [, name] of query.matchAll(/\{\{\s*([^}\s]*)\s*\}\}/g))
          if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name!))
            ctx.addIssue({ code: 'custom', message: `unknown placeholder {{${name}}}; allowed: ${TEMPLATE_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}` });
      }),
    /** The range a passing value lies in (inclusive); at least one bound. */
    thresholdRange: z
      .object({ min: z.number().finite().optional(), max: z.number().finite().optional() })
      .strict()
      .refine((r) => r.min !== undefined || r.max !== undefined, 'give min, max or both')
      .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not be above max')
      .optional(),
    /** Instead of a threshold: canary against stable on this query's readings. */
    judge: seriesJudgeSchema.optional(),
    /** The range vector's length in the query (`{{interval}}`). */
    interval: durationMs.default(30_000),
    /** Failed checks tolerated; one more fails the gate (Argo's failureLimit). */
    failureLimit: z.number().int().min(0).max(100).default(1),
  })
  .strict()
  .superRefine((template, ctx) => {
    if ((template.thresholdRange === undefined) === (template.judge === undefined))
      ctx.addIssue({ code: 'custom', path: ['thresholdRange'], message: "give either 'thresholdRange' (a fixed range) or 'judge' (canary against stable), not both or neither" });
    if (template.judge && !/\{\{\s*(role|upstream)\s*\}\}/.test(template.query))
      ctx.addIssue({ code: 'custom', path: ['query'], message: 'a judged query must tell the versions apart: use {{role}} or {{upstream}} in its selector' });
  });

export type MetricTemplateInput = z.input<typeof metricTemplateSchema>;
export type MetricTemplate = z.output<typeof metricTemplateSchema>;

export const metricTemplatesSchema = z
  .array(metricTemplateSchema)
  .min(1)
  .max(20)
  .superRefine((templates, ctx) => {
    const seen = new Set<string>();
    templates.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `'${t.name}' is given twice` });
      seen.add(t.name);
    });
  });

/** The proxy's series (delivery/proxy.ts) for one version, as Prometheus labels them. */
const versionSelector = 'service="{{service}}",upstream="{{upstream}}"';

/**
 * Flagger's two built-in checks, over the weighted proxy's series: the share of non-5xx answers in
 * percent (≥ 99) and the p99 latency in milliseconds (≤ 500), each over the last 30 s.
 */
export const DEFAULT_METRIC_TEMPLATES: readonly MetricTemplate[] = metricTemplatesSchema.parse([
  {
    name: 'request-success-rate',
    // `or vector(0)`: a version answering nothing but 5xx has no non-5xx series, and without it the rate would be
    // "no data" (an inconclusive gate, as Flagger's own template gives) instead of 0%.
    query: `(sum(rate(maestro_proxy_requests_total{${versionSelector},code!~"5.."}[{{interval}}])) or vector(0)) / sum(rate(maestro_proxy_requests_total{${versionSelector}}[{{interval}}])) * 100`,
    thresholdRange: { min: 99 },
  },
  {
    name: 'request-duration',
    query: `histogram_quantile(0.99, sum(rate(maestro_proxy_request_duration_seconds_bucket{${versionSelector}}[{{interval}}])) by (le)) * 1000`,
    thresholdRange: { max: 500 },
  },
]);

/** `30000` → `30s`, `1500` → `1500ms`: a PromQL duration. */
export function promDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The template's query with its placeholders filled in (label values escaped for PromQL strings). */
export function renderQuery(template: Pick<MetricTemplate, 'query' | 'interval'>, values: Record<Exclude<Placeholder, 'interval'>, string>): string {
  const all: Record<Placeholder, string> = { ...values, interval: promDuration(template.interval) };
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return template.query.replace(/\{\{\s*([a-z]+)\s*\}\}/g, (_, name: Placeholder) => (name === 'interval' ? all.interval : escape(all[name])));
}

/** 'sampled': a judged template's readings, judged over the window (advanceMetricChecks), not one by one. */
export type ReadingOutcome = 'pass' | 'fail' | 'no-data' | 'sampled';

/** One template checked once: the canary's query, its raw value and the verdict; a judged one has stable's beside it. */
export interface MetricReading {
  name: string;
  role: 'canary';
  query: string;
  /** null when the query returned no sample or NaN (e.g. no requests in the interval). */
  value: number | null;
  thresholdRange?: { min?: number; max?: number };
  failureLimit: number;
  outcome: ReadingOutcome;
  /** A judged template: its judge, stable's query and value. */
  judge?: SeriesJudge;
  stable?: { query: string; value: number | null };
  /** The template's range vector (ms), when its query has one: readings whose ranges overlap are not both judged. */
  intervalMs?: number;
}

export function checkReading(template: MetricTemplate, query: string, value: number | null): MetricReading {
  const { min, max } = template.thresholdRange ?? {};
  const outcome: ReadingOutcome = value === null ? 'no-data' : (min !== undefined && value < min) || (max !== undefined && value > max) ? 'fail' : 'pass';
  return { name: template.name, role: 'canary', query, value, thresholdRange: template.thresholdRange ?? {}, failureLimit: template.failureLimit, outcome };
}

/** A judged template's readings for both versions; judged later, over the window. */
export function sampleReading(template: MetricTemplate & { judge: SeriesJudge }, canary: { query: string; value: number | null }, stable: { query: string; value: number | null }): MetricReading {
  return {
    name: template.name,
    role: 'canary',
    query: canary.query,
    value: canary.value,
    failureLimit: template.failureLimit,
    outcome: canary.value === null || stable.value === null ? 'no-data' : 'sampled',
    judge: template.judge,
    stable,
    ...(usesInterval(template.query) ? { intervalMs: template.interval } : {}),
  };
}

const usesInterval = (query: string) => /\{\{\s*interval\s*\}\}/.test(query);

const figure = (v: number) => String(Number(v.toPrecision(6)));
export function describeRange(range: { min?: number; max?: number }): string {
  if (range.min !== undefined && range.max !== undefined) return `in [${figure(range.min)}, ${figure(range.max)}]`;
  return range.min !== undefined ? `≥ ${figure(range.min)}` : `≤ ${figure(range.max!)}`;
}

/** A reading in words: its name, value, the range it should be in (or stable's value) and the query that produced it. */
export function describeReading(reading: MetricReading): string {
  const value = (v: number | null) => (v === null ? 'no data' : figure(v));
  if (reading.judge)
    return `${reading.name} = ${value(reading.value)} on the canary, ${value(reading.stable?.value ?? null)} on stable (${reading.outcome === 'no-data' ? 'no data' : 'judged over the window'}) from ${reading.query}`;
  const verdict = reading.outcome === 'pass' ? 'ok' : reading.outcome === 'fail' ? 'failed' : 'no data';
  return `${reading.name} = ${value(reading.value)} (should be ${describeRange(reading.thresholdRange ?? {})}; ${verdict}) from ${reading.query}`;
}

/** What a gate's metric checks have seen since it began: failed checks per threshold template, readings per judged one. */
export interface MetricGateState {
  failures: Record<string, number>;
  series: Record<string, SeriesWindow & { countedUntil?: number }>;
}

export const emptyMetricGate = (): MetricGateState => ({ failures: {}, series: {} });

export interface MetricCheck {
  state: MetricGateState;
  verdict: 'green' | 'red' | 'inconclusive';
  /** Threshold readings past their failure limit. */
  failed: MetricReading[];
  /** Judged templates that failed. */
  failedSeries: SeriesEvidence[];
  reasons: string[];
  /** Every judged template's verdict over the window so far. */
  evidence: SeriesEvidence[];
}

/**
 * Folds one probe's readings (taken at `at`) into the gate's state. A threshold template whose failures exceed
 * its failureLimit fails the gate; "no data" is neither a pass nor a failure (the gate's timeout bounds it). A
 * judged template adds its pair of readings to its window, unless its range reaches back into the last one
 * counted (no interval judged twice), then judges the window; `looks` is how many probes the gate can take.
 * At 100% (`weight`) stable serves nothing to compare with: judged templates sit that step out, as the
 * statistical judge does.
 */
export function advanceMetricChecks(state: MetricGateState, all: readonly MetricReading[], probe: { at: number; looks: number; weight: number }): MetricCheck {
  const readings = probe.weight >= 100 ? all.filter((r) => !r.judge) : all;
  const failures = { ...state.failures };
  const series = { ...state.series };
  const evidence: SeriesEvidence[] = [];
  for (const r of readings) {
    if (r.outcome === 'fail') failures[r.name] = (failures[r.name] ?? 0) + 1;
    if (!r.judge) continue;
    let window = series[r.name] ?? { canary: [], stable: [] };
    const overlaps = r.intervalMs !== undefined && window.countedUntil !== undefined && probe.at - r.intervalMs < window.countedUntil;
    if (r.outcome === 'sampled' && !overlaps)
      window = {
        canary: [...window.canary, r.value!].slice(-SERIES_READINGS_CAP),
        stable: [...window.stable, r.stable!.value!].slice(-SERIES_READINGS_CAP),
        ...(r.intervalMs !== undefined ? { countedUntil: probe.at } : {}),
      };
    series[r.name] = window;
    evidence.push(judgeSeries(r.name, window, r.judge, probe.looks));
  }
  const failed = readings.filter((r) => r.outcome === 'fail' && failures[r.name]! > r.failureLimit);
  const failedSeries = evidence.filter((e) => e.outcome === 'fail');
  const reasons = [...readings.filter((r) => !r.judge && r.outcome !== 'pass').map(describeReading), ...evidence.filter((e) => e.outcome !== 'pass').map((e) => e.words)];
  const verdict =
    readings.some((r) => r.outcome === 'fail') || failedSeries.length > 0
      ? 'red'
      : readings.some((r) => !r.judge && r.outcome === 'no-data') || evidence.some((e) => e.outcome !== 'pass')
        ? 'inconclusive'
        : 'green';
  return { state: { failures, series }, verdict, failed, failedSeries, reasons, evidence };
}

/** The templates as text, one line each, for people reading a plan before it runs. */
export function describeTemplates(templates: readonly MetricTemplate[]): string {
  return templates.map((t) => `  - ${t.name} ${t.judge ? describeSeriesJudge(t.judge) : describeThreshold(t)}: ${t.query}`).join('\n');
}

function describeThreshold(t: MetricTemplate): string {
  return `${describeRange(t.thresholdRange ?? {})} over ${promDuration(t.interval)}, at most ${t.failureLimit} failed check${t.failureLimit === 1 ? '' : 's'}`;
}

function describeSeriesJudge(j: SeriesJudge): string {
  const amount = (n: number) => (j.shift === 'relative' ? `${Number((n * 100).toPrecision(4))}%` : figure(n));
  return `canary against stable (worse when ${j.worseWhen}): fails beyond ${amount(j.tolerance)}, passes within ${amount(j.margin)}, from ${j.minSamples} readings a side, error budget ${j.errorBudget}`;
}
