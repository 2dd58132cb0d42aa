/**
 * Gates as metric templates (issue 11): each template is a PromQL query for one version, a threshold
 * range and how many failed checks it tolerates, the shape of Flagger's MetricTemplate and Argo
 * Rollouts' AnalysisTemplate. A health source that speaks PromQL (delivery/prometheus-health.ts)
 * renders and runs them at every probe; the gate judges the readings it returns, and each reading
 * keeps the query it ran and the raw value it got, so a failed gate says exactly why.
 */
import { z } from 'zod';
import { durationMs } from './durations';

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
      .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not be above max'),
    /** The range vector's length in the query (`{{interval}}`). */
    interval: durationMs.default(30_000),
    /** Failed checks tolerated; one more fails the gate (Argo's failureLimit). */
    failureLimit: z.number().int().min(0).max(100).default(1),
  })
  .strict();

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
    query: `sum(rate(maestro_proxy_requests_total{${versionSelector},code!~"5.."}[{{interval}}])) / sum(rate(maestro_proxy_requests_total{${versionSelector}}[{{interval}}])) * 100`,
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

export type ReadingOutcome = 'pass' | 'fail' | 'no-data';

/** One template checked once for one version: the query that ran, its raw value and the verdict. */
export interface MetricReading {
  name: string;
  role: 'canary';
  query: string;
  /** null when the query returned no sample or NaN (e.g. no requests in the interval). */
  value: number | null;
  thresholdRange: { min?: number; max?: number };
  failureLimit: number;
  outcome: ReadingOutcome;
}

export function checkReading(template: MetricTemplate, query: string, value: number | null): MetricReading {
  const { min, max } = template.thresholdRange;
  const outcome: ReadingOutcome = value === null ? 'no-data' : (min !== undefined && value < min) || (max !== undefined && value > max) ? 'fail' : 'pass';
  return { name: template.name, role: 'canary', query, value, thresholdRange: template.thresholdRange, failureLimit: template.failureLimit, outcome };
}

const figure = (v: number) => String(Number(v.toPrecision(6)));
export function describeRange(range: { min?: number; max?: number }): string {
  if (range.min !== undefined && range.max !== undefined) return `in [${figure(range.min)}, ${figure(range.max)}]`;
  return range.min !== undefined ? `≥ ${figure(range.min)}` : `≤ ${figure(range.max!)}`;
}

/** A reading in words: its name, value, the range it should be in and the query that produced it. */
export function describeReading(reading: MetricReading): string {
  const value = reading.value === null ? 'no data' : figure(reading.value);
  const verdict = reading.outcome === 'pass' ? 'ok' : reading.outcome === 'fail' ? 'failed' : 'no data';
  return `${reading.name} = ${value} (should be ${describeRange(reading.thresholdRange)}; ${verdict}) from ${reading.query}`;
}

/** Failed checks so far, per template name, within one gate. */
export type MetricFailures = Record<string, number>;

/**
 * Folds one probe's readings into the gate's failure counts. A template whose failures exceed its
 * failureLimit fails the gate; "no data" is neither a pass nor a failure (the gate's timeout bounds it).
 */
export function advanceMetricChecks(failures: MetricFailures, readings: readonly MetricReading[]): { failures: MetricFailures; verdict: 'green' | 'red' | 'inconclusive'; failed: MetricReading[]; reasons: string[] } {
  const next: MetricFailures = { ...failures };
  for (const r of readings) if (r.outcome === 'fail') next[r.name] = (next[r.name] ?? 0) + 1;
  const failed = readings.filter((r) => r.outcome === 'fail' && next[r.name]! > r.failureLimit);
  const reasons = readings.filter((r) => r.outcome !== 'pass').map(describeReading);
  const verdict = readings.some((r) => r.outcome === 'fail') ? 'red' : readings.some((r) => r.outcome === 'no-data') ? 'inconclusive' : 'green';
  return { failures: next, verdict, failed, reasons };
}

/** The templates as text, one line each, for people reading a plan before it runs. */
export function describeTemplates(templates: readonly MetricTemplate[]): string {
  return templates
    .map((t) => `  - ${t.name} ${describeRange(t.thresholdRange)} over ${promDuration(t.interval)}, at most ${t.failureLimit} failed check${t.failureLimit === 1 ? '' : 's'}: ${t.query}`)
    .join('\n');
}
