import type { HealthGate, HealthThresholds } from './rollout-plan';

/** Traffic figures for one version over one probe window, as measured by the deployer's proxy. */
export interface VersionSample {
  requests: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
}

export interface ProbeSample {
  /** Epoch ms at which the window closed (set by the activity, never by workflow code). */
  at: number;
  weight: number;
  canary: VersionSample;
  stable: VersionSample;
}

export type ProbeVerdict = 'green' | 'red' | 'inconclusive';

export interface JudgedProbe extends ProbeSample {
  verdict: ProbeVerdict;
  reasons: string[];
}

/** Judges one probe window of the canary against the thresholds and the change's eval score. */
export function judgeProbe(sample: ProbeSample, thresholds: HealthThresholds, evalScore: number): JudgedProbe {
  const reasons: string[] = [];
  if (evalScore < thresholds.minEvalScore)
    reasons.push(`eval score ${evalScore.toFixed(3)} < ${thresholds.minEvalScore}`);
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
