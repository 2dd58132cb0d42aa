/** Latency histograms for the judge's bucket tests: seeded log-normal latencies counted into a source's bounds. */
import { rng as uniforms } from '../../evals/perturbations';
import { judgeWindow, statisticalJudgeSchema, type GateWindow, type LatencyHistogram } from '../../core/judge';
import { DURATION_BUCKETS } from '../../delivery/proxy';

export const judge = statisticalJudgeSchema.parse({});
/** The proxy's bounds in ms, as the Prometheus source hands them to the judge. */
export const BOUNDS_MS = DURATION_BUCKETS.map((s) => Number((s * 1000).toPrecision(12)));
/** Prometheus' and prom-client's default bounds (ms): ×2–2.5 apart. */
export const COARSE_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export const bucketIndex = (bounds: readonly number[], x: number) => {
  const j = bounds.findIndex((b) => x <= b);
  return j === -1 ? bounds.length : j;
};

export function histogram(bounds: readonly number[], latencies: readonly number[]): LatencyHistogram {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const x of latencies) counts[bucketIndex(bounds, x)]!++;
  return { boundsMs: [...bounds], counts };
}

/** Log-normal latencies (median `medianMs`, log-sd `sigma`), times `factor`, from a seeded generator. */
export function latencies(seed: number, count: number, medianMs: number, sigma: number, factor = 1): number[] {
  const next = uniforms(seed);
  return Array.from({ length: count }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    return medianMs * Math.exp(sigma * z) * factor;
  });
}

export function bucketWindow(bounds: readonly number[], canary: number[], stable: number[]): GateWindow {
  return {
    canary: { requests: canary.length, errors: 0, latenciesMs: [], latencyHistogram: histogram(bounds, canary) },
    stable: { requests: stable.length, errors: 0, latenciesMs: [], latencyHistogram: histogram(bounds, stable) },
  };
}
export const latencyOf = (window: GateWindow, j: typeof judge, looks: number) => judgeWindow(window, j, looks).evidence.find((e) => e.metric === 'latency')!;
