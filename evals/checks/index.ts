/** Check dispatch: one implementation per DSL check type; errors become failed checks with the reason. */
import { checkName, type CheckSpec } from '../dsl';
import { clamp01 } from '../scoring';
import { baseTestsPass } from './base-tests';
import { changedLinesCovered } from './diff-coverage';
import { mutationScore } from './mutation-score';
import { patchApplies, riskScoreMax, testsPass } from './repo-checks';
import { structuredRequirements } from './requirements';
import { specCoverageCheck } from './spec-coverage';
import { contains, exact, jsonSchema, regex, semantic } from './text-checks';
import type { CheckContext, CheckImpl, CheckStatus } from './types';

export type { CheckContext, CheckOutcome, CheckStatus } from './types';

const IMPLEMENTATIONS: { [T in CheckSpec['type']]: CheckImpl<T> } = {
  patch_applies: patchApplies,
  tests_pass: testsPass,
  risk_score_max: riskScoreMax,
  structured_requirements: structuredRequirements,
  exact,
  contains,
  regex,
  json_schema: jsonSchema,
  semantic,
  spec_coverage: specCoverageCheck,
  base_tests_pass: baseTestsPass,
  changed_lines_covered: changedLinesCovered,
  mutation_score: mutationScore,
};

export interface EvalCheckResult {
  check: string;
  type: CheckSpec['type'];
  score: number;
  passed: boolean;
  status: CheckStatus;
  explanation: string;
  weight: number;
  required: boolean;
  durationMs: number;
  details?: Record<string, unknown>;
}

export async function runCheck(spec: CheckSpec, ctx: CheckContext): Promise<EvalCheckResult> {
  const started = Date.now();
  const base = { check: checkName(spec), type: spec.type, weight: spec.weight, required: spec.required };
  if (ctx.timeLeftMs() <= 0)
    return { ...base, score: 0, passed: false, status: 'error', explanation: `not run: the scenario's time limit (${ctx.scenario.timeout} ms) is used up`, durationMs: 0 };
  try {
    const impl = IMPLEMENTATIONS[spec.type] as CheckImpl<CheckSpec['type']>;
    const outcome = await impl(spec as never, ctx);
    const score = clamp01(outcome.score);
    const passed = outcome.passed ?? score >= spec.pass_at;
    return { ...base, score, passed, status: outcome.status ?? (passed ? 'passed' : 'failed'), explanation: outcome.explanation, details: outcome.details, durationMs: Date.now() - started };
  } catch (error) {
    return { ...base, score: 0, passed: false, status: 'error', explanation: `check failed to run: ${(error as Error).message}`, durationMs: Date.now() - started };
  }
}
