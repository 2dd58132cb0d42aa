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

/** Eval Score, then the gate's checks, then scenarios (`scenario:<id>`): the order a merged anomaly is named by. */
const generality = (metric: string) => (metric === 'eval_score' ? 0 : metric.startsWith('scenario:') ? 2 : 1);

interface Degradation {
  service: string;
  metric: string;
  recent: EvalPoint[];
  before: EvalPoint[];
  z: number;
  p: number;
}

/**
 * Per (service, metric) — the Eval Score, each gate check, each scenario — the latest `window` scores against
 * the `baseline` before them, Mann–Whitney (normal approximation with tie correction), one-sided; degraded when
 * p < alpha. One regression moves several series over the same trains (a scenario, and the Eval Score it
 * pulls down): those are one anomaly, named and keyed by its most general series and listing the others, so one
 * regression files one issue. A scenario that degrades alone is its own anomaly.
 */
export function findEvalDegradations(points: readonly EvalPoint[], options: DegradationOptions = defaultDegradationOptions): Anomaly[] {
  const series = new Map<string, EvalPoint[]>();
  for (const p of points) {
    const key = `${p.service}\u0000${p.metric}`;
    series.set(key, [...(series.get(key) ?? []), p]);
  }
  const groups = new Map<string, Degradation[]>();
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
    const group = `${service}\u0000${recent.map((r) => r.trainId).join(',')}`;
    groups.set(group, [...(groups.get(group) ?? []), { service, metric, recent, before, z, p }]);
  }
  const mean = (xs: EvalPoint[]) => xs.reduce((s, x) => s + x.score, 0) / xs.length;
  const found = [...groups.values()].map((group): Anomaly => {
    const [primary, ...also] = [...group].sort((a, b) => generality(a.metric) - generality(b.metric) || a.metric.localeCompare(b.metric));
    const { service, metric, recent, before } = primary!;
    const moved = (d: Degradation) => `${d.metric} ${mean(d.recent).toFixed(3)} against ${mean(d.before).toFixed(3)}`;
    const evidence = (d: Degradation) => [
      `${d.metric}, last ${d.recent.length}: ${d.recent.map((r) => `${r.trainId} ${r.score.toFixed(3)}`).join(', ')}`,
      `${d.metric}, baseline (${d.before.length} before): mean ${mean(d.before).toFixed(3)}, min ${Math.min(...d.before.map((b) => b.score)).toFixed(3)}`,
      `${d.metric}, Mann–Whitney z = ${d.z.toFixed(2)}, one-sided p = ${d.p.toExponential(2)} < α = ${options.alpha}`,
    ];
    return {
      key: `eval-degradation/${service}/${metric}`,
      kind: 'eval-degradation',
      service,
      title: `${metric} of ${service} degraded: ${mean(recent).toFixed(3)} over the last ${recent.length} trains against ${mean(before).toFixed(3)} before${also.length ? `; with it ${also.map(moved).join(', ')}` : ''}`,
      trainIds: recent.map((r) => r.trainId),
      evidence: [primary!, ...also].flatMap(evidence),
    };
  });
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
