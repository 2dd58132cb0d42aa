import { decide, policyInputSchema, type PolicyInput } from '../core/policy';
import { defaultPolicy, type CompiledPolicy } from '../core/policy-rules';
import type { PolicyDecision } from '../core/stages';
import { parseOrThrow } from '../core/validation';
import { loadPolicyFile } from '../policy/load';

export interface PolicyDeps {
  /** The policy to decide under; default: `policyFile` (MAESTRO_POLICY_FILE), else the embedded default. */
  policy?: CompiledPolicy;
  policyFile?: string;
  /** LLM spend so far for a change (the cost ledger); used by llm-budget-cap when the input has none. */
  llmCostUsd?: (changeId: string) => Promise<number>;
  /** Decision time for freeze windows when the input has none. */
  now?: () => Date;
}

/** Merge-policy activities: rule evaluation behind the activity boundary, so decisions are recorded in history. */
export function createPolicyActivities(deps: PolicyDeps = {}) {
  let policy = deps.policy;
  const currentPolicy = (): CompiledPolicy => {
    if (policy) return policy;
    policy = deps.policyFile ? loadPolicyFile(deps.policyFile) : defaultPolicy();
    return policy;
  };
  return {
    /** Allow, or deny with every failing rule's reason, evidence and fix. */
    async decidePolicy(input: PolicyInput): Promise<PolicyDecision> {
      parseOrThrow(policyInputSchema, input, 'policy input');
      const compiled = currentPolicy();
      const full: PolicyInput = {
        ...input,
        now: input.now ?? (deps.now ?? (() => new Date()))().toISOString(),
        llmCostUsd: input.llmCostUsd ?? (deps.llmCostUsd ? await deps.llmCostUsd(input.changeRequest.id) : undefined),
      };
      return decide(full, compiled.rules);
    },
    /** The digest of the policy decisions are made under (recorded with each decision). */
    async policyDigest(): Promise<string> {
      return currentPolicy().digest;
    },
  };
}
