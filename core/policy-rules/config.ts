/**
 * The policy as data: which built-in rules run, with what severity and parameters, and who holds
 * which role (approvals and appeals). Written as YAML (policy files) or TS (the embedded default),
 * validated by zod; unknown rule ids and malformed fields are errors that say where and what is allowed.
 */
import { PermanentError } from '../errors';
import { z } from 'zod';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { describeIssues, ValidationError } from '../validation';
import { TEST_CHANGE_KINDS } from '../test-changes';
import { SEVERITIES, type RuleSeverity } from './types';

const severity = z.enum(SEVERITIES as [RuleSeverity, ...RuleSeverity[]]);
const roleList = z.array(z.string().min(1)).min(1);
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time, e.g. 2026-12-20T00:00:00Z');
const regexSource = z.string().min(1).refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'a valid regular expression');

const base = { severity: severity.optional(), enabled: z.boolean().default(true) };

export const ruleConfigSchemas = {
  'eval-score-below-threshold': z.object({ id: z.literal('eval-score-below-threshold'), ...base, params: z.object({ minScore: z.number().min(0).max(1).optional() }).strict().default({}) }).strict(),
  'risk-above-threshold': z
    .object({ id: z.literal('risk-above-threshold'), ...base, params: z.object({ threshold: z.number().min(0).max(1).default(0.8), approverRoles: roleList.default(['owner']) }).strict().default({}) })
    .strict(),
  'secrets-in-diff': z
    .object({
      id: z.literal('secrets-in-diff'),
      ...base,
      params: z
        .object({
          extraPatterns: z.array(z.object({ name: z.string().min(1), regex: regexSource }).strict()).default([]),
          /** Files whose added lines are not scanned (test fixtures with fake keys, say). */
          ignorePaths: z.array(z.string().min(1)).default([]),
        })
        .strict()
        .default({}),
    })
    .strict(),
  'pii-migration-without-redaction': z
    .object({
      id: z.literal('pii-migration-without-redaction'),
      ...base,
      params: z
        .object({
          migrationPaths: z.array(z.string().min(1)).default(['**/migrations/**', '**/*.sql']),
          piiColumns: z.array(z.string().regex(/^[A-Za-z_][\w]*$/, 'a column name')).min(1).default(['email', 'phone', 'ssn', 'date_of_birth', 'birth_date', 'address', 'ip_address', 'full_name', 'passport_number']),
          /** Columns that have a redaction rule (in logs, exports, eval artifacts). */
          redactedColumns: z.array(z.string().min(1)).default([]),
        })
        .strict()
        .default({}),
    })
    .strict(),
  'protected-path-touched': z
    .object({ id: z.literal('protected-path-touched'), ...base, params: z.object({ paths: z.array(z.string().min(1)).default([]), approverRoles: roleList.default(['owner']) }).strict().default({}) })
    .strict(),
  'environment-protection': z
    .object({
      id: z.literal('environment-protection'),
      ...base,
      params: z
        .object({
          environments: z
            .record(
              z
                .object({
                  requiresApproval: z.boolean().default(false),
                  approverRoles: roleList.default(['release-manager']),
                  freezeWindows: z.array(z.object({ start: isoTime, end: isoTime, reason: z.string().min(1) }).strict().refine((w) => Date.parse(w.start) < Date.parse(w.end), 'start must be before end')).default([]),
                })
                .strict(),
            )
            .default({ prod: { requiresApproval: true, approverRoles: ['release-manager'], freezeWindows: [] } }),
        })
        .strict()
        .default({}),
    })
    .strict(),
  'llm-budget-cap': z.object({ id: z.literal('llm-budget-cap'), ...base, params: z.object({ maxUsdPerChange: z.number().positive().default(5) }).strict().default({}) }).strict(),
  /** Reads the eval report's testChanges (core/test-changes.ts): deny, or hold for an approver, when the change weakens its tests. */
  'tests-weakened': z
    .object({
      id: z.literal('tests-weakened'),
      ...base,
      params: z
        .object({
          action: z.enum(['deny', 'require-approval']).default('deny'),
          /** Who may lift it when action is require-approval. */
          approverRoles: roleList.default(['owner']),
          /** Finding kinds this repository accepts (say, snapshot-rewritten where snapshots are regenerated on purpose). */
          ignoreKinds: z.array(z.enum(TEST_CHANGE_KINDS)).default([]),
        })
        .strict()
        .default({}),
    })
    .strict(),
  /** Opt-in (not in the default policy): reads the eval report's spec_coverage check. */
  'spec-criteria-uncovered': z
    .object({
      id: z.literal('spec-criteria-uncovered'),
      ...base,
      params: z.object({ check: z.string().min(1).default('spec_coverage'), minCoverage: z.number().min(0).max(1).default(1) }).strict().default({}),
    })
    .strict(),
  /** Reads the eval report's mutation figures (a mutation_score check, core/mutation.ts); silent when no such check ran. */
  'mutation-score-below-threshold': z
    .object({
      id: z.literal('mutation-score-below-threshold'),
      ...base,
      params: z
        .object({
          /** Share of the changed code's mutants the tests must kill. */
          minScore: z.number().min(0).max(1).default(0.7),
          /** Surviving mutants the fix spells out a test outline for (the evidence lists all). */
          maxOutlines: z.number().int().min(1).max(100).default(10),
        })
        .strict()
        .default({}),
    })
    .strict(),
} as const;

export type RuleId = keyof typeof ruleConfigSchemas;
export const RULE_IDS = Object.keys(ruleConfigSchemas) as RuleId[];
export type RuleConfig = { [K in RuleId]: z.output<(typeof ruleConfigSchemas)[K]> }[RuleId];
export type RuleConfigOf<K extends RuleId> = z.output<(typeof ruleConfigSchemas)[K]>;

/** A rule entry: its id decides the schema; an unknown id is reported with the known ones. */
const ruleEntrySchema = z.unknown().transform((raw, ctx): RuleConfig => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "each rule is an object with an 'id'", fatal: true });
    return z.NEVER;
  }
  const id = (raw as { id?: unknown }).id;
  if (typeof id !== 'string' || !(id in ruleConfigSchemas)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['id'], message: `unknown rule id ${JSON.stringify(id)}; known rules: ${RULE_IDS.join(', ')}`, fatal: true });
    return z.NEVER;
  }
  const parsed = ruleConfigSchemas[id as RuleId].safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: z.ZodIssueCode.custom, path: issue.path, message: describeIssues(new z.ZodError([issue]))[0]!.message, fatal: true });
    return z.NEVER;
  }
  return parsed.data as RuleConfig;
});

export const policyConfigSchema = z
  .object({
    version: z.literal(1),
    rules: z.array(ruleEntrySchema).min(1),
    /** Role → identities ('*' = everyone). */
    roles: z.record(z.array(z.string().min(1))).default({}),
    appeals: z
      .object({
        /** Roles that may appeal a denial (the change's author may always appeal). */
        appellants: z.array(z.string().min(1)).default([]),
        /** Roles that decide an appeal: per rule id, else `default`. */
        deciders: z.object({ default: roleList }).catchall(roleList).default({ default: ['release-manager'] }),
        /** May the appellant decide their own appeal? */
        allowSelfDecision: z.boolean().default(false),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rules', i, 'id'], message: `rule ${r.id} is listed twice` });
      seen.add(r.id);
    });
    for (const key of Object.keys(config.appeals.deciders))
      if (key !== 'default' && !(key in ruleConfigSchemas))
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['appeals', 'deciders', key], message: `unknown rule id "${key}"; known rules: ${RULE_IDS.join(', ')}` });
    const referenced = [
      ...config.appeals.appellants,
      ...Object.values(config.appeals.deciders).flat(),
      ...config.rules.flatMap((r) => ('approverRoles' in r.params ? (r.params.approverRoles as string[]) : [])),
    ];
    for (const role of new Set(referenced))
      if (!(role in config.roles) && role !== 'author') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['roles'], message: `role '${role}' is used but not defined in roles` });
  });

export type PolicyConfigInput = z.input<typeof policyConfigSchema>;
export type PolicyConfig = z.output<typeof policyConfigSchema>;

export class PolicyConfigError extends PermanentError {
  constructor(message: string) {
    super(message, 'InvalidPolicy');
  }
}

/** Validates a policy given as data; errors name the source and every bad field path. */
export function parsePolicyConfig(data: unknown, source = 'policy'): PolicyConfig {
  const result = policyConfigSchema.safeParse(data);
  if (result.success) return result.data;
  throw new PolicyConfigError(new ValidationError(`policy file ${source}`, describeIssues(result.error)).message);
}

/** Parses YAML policy text (the format of policy files) and validates it. */
export function parsePolicyYaml(text: string, source = 'policy.yaml'): PolicyConfig {
  let data: unknown;
  try {
    // Stryker disable next-line ObjectLiteral: equivalent: both are yaml 2's defaults (doc/Document.js), spelled out so a YAML upgrade that changed them could not let a duplicate key through unnoticed
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const detail = err instanceof YAMLParseError ? err.message : String(err);
    throw new PolicyConfigError(`policy file ${source} is not valid YAML: ${detail}`);
  }
  // yaml's parse gives null (never undefined) for an empty, comment-only or `~` document
  if (data === null) throw new PolicyConfigError(`policy file ${source} is empty`);
  return parsePolicyConfig(data, source);
}
