/**
 * Shadow changes (issue 17): a change applied, tested, scored and decided like any other, then kept on its
 * branch and never merged or deployed. Its report says what would have happened, in the train's result, the
 * record's reason and the explanation.
 */
import type { EvalReport, PolicyDecision, RiskReport } from './stages';

export interface ShadowReport {
  /** The branch holding the candidate commit (kept: it is the shadow change). */
  branch: string;
  candidateSha: string;
  wouldBe: 'allowed' | 'denied';
  evalScore: number;
  evalThreshold: number;
  /** Eval checks that failed, by name. */
  failedChecks: string[];
  risk: number;
  /** The denials the change would have met: rule, reason and fix. */
  denials: { rule: string; reason: string; fix: string }[];
  /** The rollout it would have had (its steps, shaped by risk when the plan says so). */
  plannedRollout: string;
  words: string;
}

export function shadowReport(input: { branch: string; candidateSha: string; evals: EvalReport; decision: PolicyDecision; risk: RiskReport; plannedRollout: string }): ShadowReport {
  const { evals, decision } = input;
  const failedChecks = evals.checks.filter((c) => !c.passed).map((c) => c.check);
  const denials = decision.outcome === 'deny' ? decision.denials.map(({ rule, reason, fix }) => ({ rule, reason, fix })) : [];
  const wouldBe = decision.outcome === 'deny' ? 'denied' : 'allowed';
  const score = `Eval Score ${evals.score.toFixed(3)} ${evals.passed ? '≥' : '<'} ${evals.threshold}${failedChecks.length ? `, failing ${failedChecks.join(', ')}` : ', every check passed'}; risk ${input.risk.score.toFixed(2)}`;
  const verdict =
    wouldBe === 'allowed'
      ? `would have been allowed (${score}) and rolled out: ${input.plannedRollout}`
      : `would have been denied (${score}): ${denials.map((d) => `[${d.rule}] ${d.reason} — fix: ${d.fix}`).join('; ')}`;
  const words = `shadow change ${verdict}; candidate ${input.candidateSha.slice(0, 12)} kept on ${input.branch}, nothing merged or deployed`;
  return { branch: input.branch, candidateSha: input.candidateSha, wouldBe, evalScore: evals.score, evalThreshold: evals.threshold, failedChecks, risk: input.risk.score, denials, plannedRollout: input.plannedRollout, words };
}
