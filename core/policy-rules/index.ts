/** A policy compiled from data: its rules (ordered by severity), roles, appeal settings and digest. */
import { canonicalJsonForPolicy } from './canonical';
import { parsePolicyConfig, type PolicyConfig, type PolicyConfigInput, type RuleId } from './config';
import { defaultPolicyConfig } from './default-policy';
import { ruleFactories } from './builtins';
import { rolesOf, SEVERITIES, type PolicyRule, type Roles } from './types';

export * from './config';
export * from './types';
export { matchesPathPattern, protectedPathsTouched } from './paths';
export { approvalFor } from './builtins';
export { SECRET_PATTERNS, redactSecret, findSecrets, type SecretFinding } from '../secrets';
export { defaultPolicyConfig } from './default-policy';

export interface CompiledPolicy {
  config: PolicyConfig;
  rules: PolicyRule[];
  roles: Roles;
  /** Identifies the policy (rules and parameters) a decision was made under. */
  digest: string;
}

export function compilePolicy(config: PolicyConfig): CompiledPolicy {
  const rules = config.rules
    .filter((r) => r.enabled)
    .map((r) => {
      const made = (ruleFactories[r.id] as (c: typeof r, roles: Roles) => ReturnType<(typeof ruleFactories)[RuleId]>)(r, config.roles);
      return { id: made.id, severity: r.severity ?? made.defaultSeverity, description: made.description, evaluate: made.evaluate };
    })
    .sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  return { config, rules, roles: config.roles, digest: canonicalJsonForPolicy(config) };
}

let defaultCompiled: CompiledPolicy | undefined;
export function defaultPolicy(): CompiledPolicy {
  defaultCompiled ??= compilePolicy(parsePolicyConfig(defaultPolicyConfig, 'embedded default policy'));
  return defaultCompiled;
}

export function policyFrom(input: PolicyConfigInput, source?: string): CompiledPolicy {
  return compilePolicy(parsePolicyConfig(input, source));
}

/** Whether `identity` may appeal (the author always may), and who may decide an appeal of `rules`. */
export function appealRoles(policy: PolicyConfig, identity: string, author: string | undefined, rules: readonly string[]): { mayAppeal: boolean; deciderRoles: string[] } {
  const mayAppeal = identity === author || rolesOf(identity, policy.roles).some((r) => policy.appeals.appellants.includes(r));
  const deciderRoles = [...new Set(rules.length ? rules.flatMap((r) => policy.appeals.deciders[r] ?? policy.appeals.deciders.default) : policy.appeals.deciders.default)];
  return { mayAppeal, deciderRoles };
}
