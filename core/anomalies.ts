/**
 * The outlier analyzer's decisions (pure): which eval series degraded, judged against a rolling baseline
 * with a rank test (not a fixed delta), and which rollouts failed. Each anomaly has a stable key, so
 * filing it again updates its issue instead of opening another.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { mannWhitney } from './judge';

/** One eval figure of one train: the Eval Score (`metric` 'eval_score') or one check's score. */
export interface EvalPoint {
  trainId: string;
  service: string;
  /** Epoch ms the result was recorded. */
  at: number;
  metric: string;
  score: number;
}

export interface Anomaly {
  key: string;
  kind: 'eval-degradation' | 'rollout-failed';
  service: string;
  title: string;
  /** The trains the anomaly is seen in, oldest first; the last one is the one to reproduce. */
  trainIds: string[];
  evidence: string[];
}

export interface DegradationOptions {
  /** The latest results judged together. */
  window: number;
  /** The results before them that form the baseline: at most this many … */
  baseline: number;
  /** … and at least this many, or the series is not judged. */
  minBaseline: number;
  /** One-sided significance of "the window scores lower than the baseline". */
  alpha: number;
}

export const defaultDegradationOptions: DegradationOptions = { window: 3, baseline: 20, minBaseline: 8, alpha: 0.01 };

/**
 * Per (service, metric): the latest `window` scores against the `baseline` before them, Mann–Whitney
 * (normal approximation with tie correction), one-sided. A degradation is filed when p < alpha.
 */
export function findEvalDegradations(points: readonly EvalPoint[], options: DegradationOptions = defaultDegradationOptions): Anomaly[] {
  const series = new Map<string, EvalPoint[]>();
  for (const p of points) {
    const key = `${p.service}\u0000${p.metric}`;
    series.set(key, [...(series.get(key) ?? []), p]);
  }
  const found: Anomaly[] = [];
  for (const list of series.values()) {
    const sorted = [...list].sort((a, b) => a.at - b.at || a.trainId.localeCompare(b.trainId));
    const recent = sorted.slice(-options.window);
    const before = sorted.slice(0, -options.window).slice(-options.baseline);
    if (recent.length < options.window || before.length < options.minBaseline) continue;
    // z > 0: the baseline ranks above the recent scores.
    const { z } = mannWhitney(before.map((p) => p.score), recent.map((p) => p.score));
    const p = 1 - normalCdf(z, 0, 1);
    if (!(p < options.alpha)) continue;
    const { service, metric } = recent[0]!;
    const mean = (xs: EvalPoint[]) => xs.reduce((s, x) => s + x.score, 0) / xs.length;
    found.push({
      key: `eval-degradation/${service}/${metric}`,
      kind: 'eval-degradation',
      service,
      title: `${metric} of ${service} degraded: ${mean(recent).toFixed(3)} over the last ${recent.length} trains against ${mean(before).toFixed(3)} before`,
      trainIds: recent.map((r) => r.trainId),
      evidence: [
        `last ${recent.length}: ${recent.map((r) => `${r.trainId} ${r.score.toFixed(3)}`).join(', ')}`,
        `baseline (${before.length} before): mean ${mean(before).toFixed(3)}, min ${Math.min(...before.map((b) => b.score)).toFixed(3)}`,
        `Mann–Whitney z = ${z.toFixed(2)}, one-sided p = ${p.toExponential(2)} < α = ${options.alpha}`,
      ],
    });
  }
  return found.sort((a, b) => a.key.localeCompare(b.key));
}

/** A train that merged and did not end promoted: its rollout (or what came after the merge) failed. */
export function findFailedRollouts(trains: readonly { id: string; service: string; outcome: string | null; mergeSha: string | null; reason: string | null }[]): Anomaly[] {
  return trains
    .filter((t) => t.mergeSha !== null && (t.outcome === 'rolled_back' || t.outcome === 'failed'))
    .map((t) => ({
      key: `rollout-failed/${t.service}/${t.id}`,
      kind: 'rollout-failed' as const,
      service: t.service,
      title: `${t.service}: train ${t.id} ${t.outcome === 'rolled_back' ? 'rolled back' : 'failed after its merge'}: ${(t.reason ?? 'no reason recorded').slice(0, 160)}`,
      trainIds: [t.id],
      evidence: [t.reason ?? 'no reason recorded'],
    }));
}
