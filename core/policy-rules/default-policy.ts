/** The embedded default policy: every built-in rule with its default parameters. */
import type { PolicyConfigInput } from './config';

export const defaultPolicyConfig: PolicyConfigInput = {
  version: 1,
  rules: [
    { id: 'eval-score-below-threshold' },
    { id: 'tests-weakened' },
    // Judges only when a mutation_score check ran (the opt-in scenario mutation.changed-code@v1): no cost otherwise.
    { id: 'mutation-score-below-threshold' },
    { id: 'secrets-in-diff' },
    { id: 'pii-migration-without-redaction' },
    { id: 'protected-path-touched' },
    { id: 'environment-protection' },
    { id: 'risk-above-threshold', params: { threshold: 0.8 } },
    { id: 'llm-budget-cap', params: { maxUsdPerChange: 5 } },
  ],
  // Zero set-up: anyone may approve or decide (the approval is still recorded with its identity). A real
  // policy file names people: roles: { owner: [alice], release-manager: [carol] }.
  roles: { owner: ['*'], 'release-manager': ['*'], developer: ['*'] },
  appeals: { appellants: ['developer'], deciders: { default: ['release-manager'], 'risk-above-threshold': ['owner', 'release-manager'], 'protected-path-touched': ['owner'] } },
};
