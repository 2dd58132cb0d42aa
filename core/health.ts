import type { LatencyHistogram, MetricEvidence, SeriesEvidence } from './judge';
import type { MetricReading } from './metric-gates';
import type { HealthGate, HealthThresholds } from './rollout-plan';

/** Traffic figures for one version over one probe window, as measured by the deployer's proxy. */
export interface VersionSample {
  requests: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  /** A uniform sample of the window's latencies (at most LATENCY_SAMPLE_SIZE), for the rank test. */
  latenciesMs?: number[];
  /** The window's latency histogram, from a source that keeps buckets rather than samples (Prometheus). */
  latencyHistogram?: LatencyHistogram;
}

/** Latencies a probe reports per version: bounded, so a probe result stays small in history. */
export const LATENCY_SAMPLE_SIZE = 200;

export interface ProbeSample {
  /** Epoch ms at which the window closed (set by the activity, never by workflow code). */
  at: number;
  weight: number;
  canary: VersionSample;
  stable: VersionSample;
  /** Where the figures come from when not the proxy's own: the PromQL source, its url and the figures' window. */
  source?: { kind: 'prometheus'; url: string; windowMs: number };
  /** The metric templates checked for the canary (a PromQL source only), each with its query and raw value. */
  metrics?: MetricReading[];
}

export type ProbeVerdict = 'green' | 'red' | 'inconclusive';

export interface JudgedProbe extends ProbeSample {
  verdict: ProbeVerdict;
  reasons: string[];
  /** The statistical judges' evidence over the gate's window so far: error rate and latency, and judged metric templates. */
  evidence?: (MetricEvidence | SeriesEvidence)[];
  /** The revision judged and the gate configuration that judged it (core/gate-config.ts); absent in probes recorded before. */
  commit?: string;
  gateConfig?: string;
  /** Set when the gates changed after this verdict: the configuration whose analysis replaced it. */
  supersededBy?: string;
}

/** Judges one probe window of the canary against the thresholds and the change's eval score. */
export function judgeProbe(sample: ProbeSample, thresholds: HealthThresholds, evalScore: number): JudgedProbe {
  const reasons: string[] = evalScoreReasons(evalScore, thresholds);
  const { canary } = sample;
  if (canary.requests >= thresholds.minRequests) {
    const errorRate = canary.errors / canary.requests;
    if (errorRate > thresholds.maxErrorRate)
      reasons.push(`error rate ${(errorRate * 100).toFixed(2)}% > ${(thresholds.maxErrorRate * 100).toFixed(2)}%`);
    if (canary.p95Ms > thresholds.maxP95LatencyMs)
      reasons.push(`p95 latency ${canary.p95Ms.toFixed(1)}ms > ${thresholds.maxP95LatencyMs}ms`);
  } else if (reasons.length === 0) {
    return { ...sample, verdict: 'inconclusive', reasons: [`only ${canary.requests} canary requests (< ${thresholds.minRequests})`] };
  }
  return { ...sample, verdict: reasons.length > 0 ? 'red' : 'green', reasons };
}

/** The change's eval score below the minimum makes every probe red, whatever the traffic says. */
export function evalScoreReasons(evalScore: number, thresholds: HealthThresholds): string[] {
  return evalScore < thresholds.minEvalScore ? [`eval score ${evalScore.toFixed(3)} < ${thresholds.minEvalScore}`] : [];
}

/** The probe without its latency samples or buckets: what the rollout's status keeps (its query stays small). */
export function withoutLatencies(sample: ProbeSample): ProbeSample {
  const strip = ({ latenciesMs: _latencies, latencyHistogram: _buckets, ...figures }: VersionSample): VersionSample => figures;
  return { ...sample, canary: strip(sample.canary), stable: strip(sample.stable) };
}

export interface GateProgress {
  consecutiveGreen: number;
  red: number;
  probes: number;
}

export type GateOutcome = 'passed' | 'failed' | 'continue';

/** Folds one verdict into a gate's running count and says whether the gate is decided. */
export function advanceGate(progress: GateProgress, verdict: ProbeVerdict, gate: HealthGate): { progress: GateProgress; outcome: GateOutcome } {
  const next: GateProgress = {
    probes: progress.probes + 1,
    consecutiveGreen: verdict === 'green' ? progress.consecutiveGreen + 1 : verdict === 'red' ? 0 : progress.consecutiveGreen,
    red: progress.red + (verdict === 'red' ? 1 : 0),
  };
  const outcome: GateOutcome = next.red >= gate.maxRed ? 'failed' : next.consecutiveGreen >= gate.consecutiveGreen ? 'passed' : 'continue';
  return { progress: next, outcome };
}

/** Nearest-rank percentile of unsorted samples; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
