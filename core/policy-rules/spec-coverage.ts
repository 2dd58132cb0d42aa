/**
 * spec-criteria-uncovered: every acceptance criterion of the change's spec (SpecSynth) should be cited by a
 * test. The evidence is the eval harness's `spec_coverage` check (evals/checks/spec-coverage.ts), whose
 * explanation starts with `spec <change>: <covered>/<total> acceptance criteria covered by tests; uncovered: …`.
 * Without that check in the eval report the rule has nothing to judge and stays silent.
 */
import { parseSpecCoverageLine } from '../spec';
import type { RuleConfigOf } from './config';
import { deny, type PolicyRule, type RuleSeverity } from './types';

export const specCriteriaUncovered = (config: RuleConfigOf<'spec-criteria-uncovered'>): Omit<PolicyRule, 'severity'> & { defaultSeverity: RuleSeverity } => ({
  id: 'spec-criteria-uncovered',
  defaultSeverity: 'medium',
  description: `Every acceptance criterion of the change's spec is covered by a test (eval check '${config.params.check}').`,
  evaluate({ evals, changeRequest }) {
    const check = evals.checks.find((c) => c.check === config.params.check);
    if (!check) return null;
    const coverage = parseSpecCoverageLine(check.explanation);
    const share = coverage ? (coverage.total === 0 ? 1 : coverage.covered / coverage.total) : check.score;
    if (share >= config.params.minCoverage && (coverage ? coverage.uncovered.length === 0 || config.params.minCoverage < 1 : check.passed)) return null;
    const ids = coverage?.uncovered ?? [];
    const figure = coverage ? `${coverage.covered}/${coverage.total} acceptance criteria` : `a coverage score of ${check.score.toFixed(3)}`;
    return deny('spec-criteria-uncovered', {
      reason: `the tests of change ${changeRequest.id} cover ${figure} of its spec${ids.length ? `; no test cites ${ids.join(', ')}` : ''} (required: ${Math.round(config.params.minCoverage * 100)}%)`,
      evidence: `eval check ${check.check} (score ${check.score.toFixed(3)}, ${check.passed ? 'passed' : 'failed'}):\n${check.explanation || '(no explanation)'}`,
      fix: `Add or extend tests for ${ids.length ? ids.join(', ') : 'the uncovered criteria'} and cite each id in the test (a \`// covers: ${ids[0] ?? 'AC-<change>-<n>'}\` comment above it, or the id in its title), check with \`maestro spec trace\`, push and re-run the train; a criterion that needs no test can be appealed.`,
    });
  },
});
