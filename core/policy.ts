/**
 * The merge policy: rules as data, each either silent or producing a Denial that says what broke,
 * the evidence, and how to fix it. `decide` allows only when no rule objects.
 */
import { z } from 'zod';
import type { ChangeRequest } from './change-request';
import type { Candidate, Denial, EvalReport, PolicyDecision, RiskReport } from './stages';

/** Risk scores strictly above this are denied until an owner approves (see core/risk.ts for the formula). */
export const RISK_DENY_THRESHOLD = 0.8;

export interface PolicyInput {
  changeRequest: Pick<ChangeRequest, 'id' | 'protectedPaths'>;
  candidate: Pick<Candidate, 'sha' | 'changedFiles'>;
  risk: RiskReport;
  evals: EvalReport;
}

export type RuleSeverity = 'critical' | 'high';

export interface PolicyRule {
  id: string;
  severity: RuleSeverity;
  /** One line for people reading the rule list. */
  description: string;
  evaluate(input: PolicyInput): Denial | null;
}

// ---------------------------------------------------------------------------------------------
// Path patterns

function normalisePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function globToRegExpSource(glob: string): string {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      // '**/' matches zero or more whole directories; a bare '**' matches anything.
      if (glob[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (ch === '*') {
      source += '[^/]*';
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return source;
}

/**
 * True when `path` is protected by `pattern`: the same path, a file under that directory, or a match
 * of the simple glob (`*` within one path segment, `**` across segments). A glob that matches a
 * directory also protects everything under it.
 */
export function matchesPathPattern(path: string, pattern: string): boolean {
  const p = normalisePath(path);
  const pat = normalisePath(pattern);
  if (pat === '' || p === '') return false;
  if (p === pat || p.startsWith(pat + '/')) return true;
  if (!pat.includes('*')) return false;
  return new RegExp(`^${globToRegExpSource(pat)}(?:/.*)?$`).test(p);
}

/** Each changed file that some protected pattern covers, with the first pattern that covers it. */
export function protectedPathsTouched(changedFiles: readonly string[], protectedPaths: readonly string[]): { file: string; pattern: string }[] {
  const touched: { file: string; pattern: string }[] = [];
  for (const file of changedFiles) {
    const pattern = protectedPaths.find((pat) => matchesPathPattern(file, pat));
    if (pattern !== undefined) touched.push({ file, pattern });
  }
  return touched;
}

// ---------------------------------------------------------------------------------------------
// Rules

const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : String(n));
const list = (items: readonly string[], max = 10): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

export const evalScoreBelowThreshold: PolicyRule = {
  id: 'eval-score-below-threshold',
  severity: 'critical',
  description: 'The eval harness must pass and its score must reach the threshold.',
  evaluate({ evals }) {
    const belowThreshold = evals.score < evals.threshold;
    if (evals.passed && !belowThreshold) return null;
    const failing = evals.checks.filter((c) => !c.passed);
    // With no failing check the aggregate is low because of weak passes: point at the weakest ones.
    const culprits = failing.length > 0 ? failing : [...evals.checks].sort((a, b) => a.score - b.score).slice(0, 3);
    const what = belowThreshold
      ? `eval score ${fmt(evals.score)} is below the threshold ${fmt(evals.threshold)}`
      : `the eval harness reported a failure (score ${fmt(evals.score)}, threshold ${fmt(evals.threshold)})`;
    const reason =
      failing.length > 0
        ? `${what}; failing checks: ${list(failing.map((c) => c.check))}`
        : culprits.length > 0
          ? `${what}; no check failed outright, the lowest scores are: ${list(culprits.map((c) => `${c.check} (${fmt(c.score)})`))}`
          : `${what}; the report lists no checks`;
    const evidence =
      evals.checks.length > 0
        ? evals.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'} ${c.check} score=${fmt(c.score)}: ${c.explanation || '(no explanation)'}`).join('\n')
        : `score=${fmt(evals.score)} threshold=${fmt(evals.threshold)} passed=${evals.passed} checks=[]`;
    const fix =
      culprits.length > 0
        ? `Make ${list(culprits.map((c) => c.check))} pass (see each check's explanation in the evidence), push a new candidate and re-run the train.`
        : 'Add eval scenarios for this service so the harness has checks to run, then re-run the train.';
    return { rule: 'eval-score-below-threshold', reason, evidence, fix };
  },
};

export const protectedPathTouched: PolicyRule = {
  id: 'protected-path-touched',
  severity: 'critical',
  description: "Changes to protected paths need their owners' approval.",
  evaluate({ changeRequest, candidate }) {
    const touched = protectedPathsTouched(candidate.changedFiles, changeRequest.protectedPaths);
    if (touched.length === 0) return null;
    const files = touched.map((t) => t.file);
    const patterns = [...new Set(touched.map((t) => t.pattern))];
    return {
      rule: 'protected-path-touched',
      reason: `the change touches protected path(s) ${list(files)} (protected by ${list(patterns.map((p) => `'${p}'`))})`,
      evidence: touched.map((t) => `${t.file} matches protected pattern '${t.pattern}' (candidate ${candidate.sha})`).join('\n'),
      fix: `Get approval from the owners of ${list(patterns.map((p) => `'${p}'`))} (approve signal on this train), or drop the changes to ${list(files)} and re-run the train.`,
    };
  },
};

export const riskAboveThreshold: PolicyRule = {
  id: 'risk-above-threshold',
  severity: 'high',
  description: `Changes with a risk score above ${RISK_DENY_THRESHOLD} need an owner's approval.`,
  evaluate({ risk }) {
    if (!(risk.score > RISK_DENY_THRESHOLD)) return null;
    const top = [...risk.factors].sort((a, b) => b.value * b.weight - a.value * a.weight)[0];
    return {
      rule: 'risk-above-threshold',
      reason: `risk score ${fmt(risk.score)} is above ${RISK_DENY_THRESHOLD}${top ? `, driven mostly by ${top.name}` : ''}`,
      evidence:
        risk.factors.length > 0
          ? risk.factors.map((f) => `${f.name}: value=${fmt(f.value)} weight=${fmt(f.weight)} (${f.detail})`).join('\n')
          : `score=${fmt(risk.score)} (no factors reported)`,
      fix: 'Request owner approval (approve signal on this train), or split the change so each part touches fewer, less central files.',
    };
  },
};

/** All rules, in the order their denials are reported within one severity. */
export const policyRules: readonly PolicyRule[] = [evalScoreBelowThreshold, protectedPathTouched, riskAboveThreshold];

const severityOrder: Record<RuleSeverity, number> = { critical: 0, high: 1 };

/** A denial with an empty field tells the operator nothing; treat it as a bug in the rule. */
function assertCompleteDenial(denial: Denial, ruleId: string): Denial {
  for (const key of ['rule', 'reason', 'evidence', 'fix'] as const)
    if (typeof denial[key] !== 'string' || denial[key].trim() === '') throw new Error(`policy rule ${ruleId} produced a denial with an empty ${key}`);
  return denial;
}

/** Runs every rule; allow when none objects, otherwise deny with every objection, most severe first. */
export function decide(input: PolicyInput, rules: readonly PolicyRule[] = policyRules): PolicyDecision {
  const denials = [...rules]
    .sort((a, b) => severityOrder[a.severity] - severityOrder[b.severity])
    .flatMap((rule) => {
      const denial = rule.evaluate(input);
      return denial ? [assertCompleteDenial(denial, rule.id)] : [];
    });
  const [first, ...rest] = denials;
  if (first) return { outcome: 'deny', denials: [first, ...rest] };
  return {
    outcome: 'allow',
    notes: [
      `eval score ${fmt(input.evals.score)} ≥ ${fmt(input.evals.threshold)}, ${input.evals.checks.length} check(s) passed`,
      `risk score ${fmt(input.risk.score)} ≤ ${RISK_DENY_THRESHOLD}`,
      input.changeRequest.protectedPaths.length > 0
        ? `no protected path touched (${input.changeRequest.protectedPaths.length} pattern(s) checked)`
        : 'no protected paths declared',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Boundary schema: what decidePolicy reads, validated before any rule runs.

const unitInterval = z.number().min(0).max(1);

export const policyInputSchema = z.object({
  changeRequest: z.object({ id: z.string().min(1), protectedPaths: z.array(z.string().min(1)) }).passthrough(),
  candidate: z.object({ sha: z.string().min(1), changedFiles: z.array(z.string().min(1)) }).passthrough(),
  risk: z.object({
    score: unitInterval,
    factors: z.array(z.object({ name: z.string().min(1), value: z.number().finite(), weight: z.number().finite(), detail: z.string() })),
  }),
  evals: z
    .object({
      score: unitInterval,
      passed: z.boolean(),
      threshold: unitInterval,
      checks: z.array(z.object({ check: z.string().min(1), score: z.number().finite(), passed: z.boolean(), explanation: z.string() })),
      durationMs: z.number().min(0),
    })
    .passthrough(),
});
