/**
 * The production health source: the gates' figures come from Prometheus (PromQL over its HTTP API),
 * which scrapes the weighted proxy's /metrics (delivery/proxy.ts) and each version's own. Each version
 * is found by its upstream address (a new address per started version), so a rolled-back canary's
 * errors never count against the next one. The per-version figures include each version's latency
 * histogram (the proxy's buckets), the statistical judge's latency input on this source. Besides them every
 * probe runs the plan's metric templates (core/metric-gates.ts) for the canary, and a judged one for stable
 * too, and returns each reading with its query.
 */
import { z } from 'zod';
import { InvalidInputError, TransientError } from '../core/errors';
import type { HealthSource, ProbeInput } from '../core/delivery';
import type { ProbeSample, VersionSample } from '../core/health';
import type { LatencyHistogram } from '../core/judge';
import { checkReading, DEFAULT_METRIC_TEMPLATES, metricTemplatesSchema, promDuration, renderQuery, sampleReading, type MetricReading, type MetricTemplate } from '../core/metric-gates';

export interface PrometheusHealthSourceOptions {
  /** Prometheus' base url, e.g. http://127.0.0.1:9090. */
  url: string;
  /** Where the service's stable and canary are served now, and the canary weight (the deployer's live routes). */
  routes: (service: string) => Promise<{ stable: string | null; canary: string | null; weight: number }>;
  /** Per-query deadline. */
  timeoutMs?: number;
  /** The figures' window when the service was not probed before (later: the time since the last probe). */
  firstWindowMs?: number;
}

/** What Prometheus' /api/v1/query answers (the parts read here). */
const queryResponseSchema = z.object({
  status: z.enum(['success', 'error']),
  error: z.string().optional(),
  data: z
    .object({
      resultType: z.string(),
      result: z.array(z.object({ metric: z.record(z.string()), value: z.tuple([z.number(), z.string()]) })),
    })
    .optional(),
});

/** One instant-vector sample: its labels and value (NaN and ±Inf kept as numbers). */
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

/** Windows are clamped: at least two scrapes, at most five minutes. */
const MIN_WINDOW_MS = 2_000;
const MAX_WINDOW_MS = 300_000;

export class PrometheusHealthSource implements HealthSource {
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly firstWindowMs: number;
  private readonly lastProbeAt = new Map<string, number>();

  constructor(private readonly options: PrometheusHealthSourceOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.firstWindowMs = options.firstWindowMs ?? 5_000;
  }

  /**
   * Runs one PromQL instant query, at `atMs` (epoch ms) when given, else Prometheus' now; a PromQL error is
   * bad input (retrying the same query cannot help).
   */
  async query(promql: string, atMs?: number): Promise<PromSample[]> {
    let res: Response;
    const params = new URLSearchParams({ query: promql, ...(atMs === undefined ? {} : { time: (atMs / 1000).toFixed(3) }) });
    try {
      res = await fetch(`${this.url}/api/v1/query?${params}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new TransientError(`Prometheus at ${this.url} did not answer (${(err as Error).message}); is it running? (tsx infra/prometheus/cli.ts start)`, 'PrometheusUnavailable');
    }
    const body = queryResponseSchema.safeParse(await res.json().catch(() => undefined));
    if (!body.success) throw new TransientError(`Prometheus at ${this.url} answered ${res.status} with something that is not a query result`, 'PrometheusUnavailable');
    if (body.data.status === 'error') {
      if (res.status === 400 || res.status === 422) throw new InvalidInputError(`PromQL refused by Prometheus: ${body.data.error ?? res.status}; query: ${promql}`);
      throw new TransientError(`Prometheus query failed (${res.status}): ${body.data.error ?? ''}; query: ${promql}`, 'PrometheusUnavailable');
    }
    return (body.data.data?.result ?? []).map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }

  async probe(input: ProbeInput): Promise<ProbeSample> {
    const templates = input.metrics ? metricTemplatesSchema.parse(input.metrics) : DEFAULT_METRIC_TEMPLATES;
    const routes = await this.options.routes(input.service);
    const now = Date.now();
    const last = this.lastProbeAt.get(input.service);
    const windowMs = Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, last === undefined ? this.firstWindowMs : now - last));
    this.lastProbeAt.set(input.service, now);
    const address = (url: string | null) => (url ? new URL(url).host : null);
    const versions = { stable: address(routes.stable), canary: address(routes.canary) };

    const service = `service="${input.service.replace(/"/g, '\\"')}"`;
    const range = promDuration(windowMs);
    // Every figure over the same window, [now − window, now]: evaluated at `now`, so one probe's window
    // ends where the next one's starts and the judge can add them up (core/judge.ts accumulateWindow).
    const [requests, errors, p50, p95, buckets] = await Promise.all([
      this.query(`sum by (upstream) (increase(maestro_proxy_requests_total{${service}}[${range}]))`, now),
      this.query(`sum by (upstream) (increase(maestro_proxy_requests_total{${service},code=~"5.."}[${range}]))`, now),
      this.query(`histogram_quantile(0.5, sum by (upstream, le) (rate(maestro_proxy_request_duration_seconds_bucket{${service}}[${range}]))) * 1000`, now),
      this.query(`histogram_quantile(0.95, sum by (upstream, le) (rate(maestro_proxy_request_duration_seconds_bucket{${service}}[${range}]))) * 1000`, now),
      // The statistical judge's latency input: each version's requests per bucket over the window.
      this.query(`sum by (upstream, le) (increase(maestro_proxy_request_duration_seconds_bucket{${service}}[${range}]))`, now),
    ]);
    const histograms = latencyHistograms(buckets, [versions.stable, versions.canary]);
    const figure = (samples: PromSample[], upstream: string | null, round: (n: number) => number) => {
      const value = samples.find((s) => s.labels.upstream === upstream)?.value;
      return value === undefined || !Number.isFinite(value) ? 0 : round(value);
    };
    const version = (upstream: string | null): VersionSample => ({
      requests: figure(requests, upstream, Math.round),
      errors: figure(errors, upstream, Math.round),
      p50Ms: figure(p50, upstream, round3),
      p95Ms: figure(p95, upstream, round3),
      ...(upstream && histograms.has(upstream) ? { latencyHistogram: histograms.get(upstream)! } : {}),
    });

    const metrics: MetricReading[] = [];
    if (versions.canary) {
      const upstreams = { canary: versions.canary, stable: versions.stable };
      // At `now` too, like the figures: a judged template's two readings cover the same interval.
      const read = async (template: MetricTemplate, role: 'canary' | 'stable') => {
        const upstream = upstreams[role];
        const query = renderQuery(template, { service: input.service, role, upstream: upstream ?? '' });
        if (upstream === null) return { query, value: null };
        const result = await this.query(query, now);
        return { query, value: result.length > 0 && Number.isFinite(result[0]!.value) ? round3(result[0]!.value) : null };
      };
      const readings = await Promise.all(
        templates.map(async (template) => {
          const canary = await read(template, 'canary');
          return template.judge ? sampleReading({ ...template, judge: template.judge }, canary, await read(template, 'stable')) : checkReading(template, canary.query, canary.value);
        }),
      );
      metrics.push(...readings);
    }
    return {
      // The window closed at `now` (the queries' evaluation time), whenever the answers came back.
      at: now,
      weight: routes.weight,
      canary: version(versions.canary),
      stable: version(versions.stable),
      source: { kind: 'prometheus', url: this.url, windowMs },
      metrics,
    };
  }
}

/**
 * Each version's latency histogram from `sum by (upstream, le) (increase(…_bucket[w]))`: bounds in ms, whole
 * requests per bucket. increase() extrapolates to the window's edges, so its counts are estimates in floats:
 * the cumulative counts (le ≤ x) are rounded to the nearest whole request, kept non-decreasing, then
 * differenced, so the buckets add up to the rounded total. A version without series (no traffic yet) gets
 * zeros on the other's bounds; none at all when neither has any.
 */
export function latencyHistograms(samples: PromSample[], upstreams: (string | null)[]): Map<string, LatencyHistogram> {
  const cumulative = new Map<string, Map<number, number>>();
  for (const s of samples) {
    const upstream = s.labels.upstream;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    if (upstream === undefined || Number.isNaN(le)) continue;
    const byBound = cumulative.get(upstream) ?? new Map<number, number>();
    byBound.set(le, Number.isFinite(s.value) ? s.value : 0);
    cumulative.set(upstream, byBound);
  }
  const seconds = [...new Set([...cumulative.values()].flatMap((m) => [...m.keys()]))].filter(Number.isFinite).sort((a, b) => a - b);
  const histograms = new Map<string, LatencyHistogram>();
  if (seconds.length === 0) return histograms;
  // Bounds are printed in seconds; in ms without float noise (0.0004883 s → 0.4883 ms).
  const boundsMs = seconds.map((s) => Number((s * 1000).toPrecision(12)));
  for (const upstream of upstreams) {
    if (upstream === null) continue;
    const byBound = cumulative.get(upstream);
    let previous = 0;
    const counts = [...seconds, Number.POSITIVE_INFINITY].map((le) => {
      const whole = Math.max(previous, Math.round(byBound?.get(le) ?? previous));
      const count = whole - previous;
      previous = whole;
      return count;
    });
    histograms.set(upstream, { boundsMs, counts });
  }
  return histograms;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
