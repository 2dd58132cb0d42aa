/**
 * The scenario DSL: one YAML file per scenario version, validated with zod. Errors name the file, the line
 * and column (from the YAML parser's positions), the field path and what is allowed there.
 *
 *   id: implement.fix-test@v2          # <dotted.name>@v<N>
 *   title: Fix the failing greeting test
 *   tags: [prompt:implement, area:greeter]   # prompt:<name> links the scenario to an agent prompt
 *   holdout: false                     # hold-out scenarios are reported apart and never used for tuning
 *   applies_to: { paths: [src/**], prompts: [fix], tags: [area:greeter] }   # the train's gate runs it when any matches
 *   fixtures: { prompt, inputs, failing_tests, context_files }
 *   checks: [{ type: tests_pass, weight: 3, required: true }, …]
 *   scoring: { threshold: 0.85 }
 */
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { durationMs } from '../core/durations';
import { specSchema } from '../core/spec';

export const SCENARIO_ID = /^([a-z][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)*)@v([1-9]\d*)$/;

/** Where a text check reads its subject. `file:<path>` reads a file of the candidate's work tree. */
export const TEXT_SOURCES = ['diff', 'commit_message', 'output', 'command', 'file:<path>'] as const;
const sourceSchema = z
  .string()
  .regex(/^(diff|commit_message|output|command|file:[^\0]+)$/, `allowed: ${TEXT_SOURCES.map((s) => `'${s}'`).join(', ')}`);

/**
 * 0 (the check is reported but does not count) or from 0.001 up: smaller weights carry no meaning and,
 * scaled, underflow to 0, which would break the scale-invariance of normalised weights.
 */
const weightSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((w) => w === 0 || w >= 0.001, 'a weight is 0 or between 0.001 and 100')
  .default(1);

const common = {
  /** Display name; defaults to the type (must be unique within a scenario). */
  name: z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'lowercase letters, digits, _ . -').optional(),
  weight: weightSchema,
  /** A failing required check caps the scenario score (see scoring.ts). */
  required: z.boolean().default(false),
  /** Score at or above which the check passes. */
  pass_at: z.number().min(0).max(1).default(1),
};
const textCommon = { ...common, source: sourceSchema, command: z.array(z.string().min(1)).min(1).optional() };

export const requirementSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).optional(),
    text: z.string().min(1),
    /**
     * fail_to_pass: the candidate's new/changed tests fail on the base commit and pass on the candidate.
     * public_api_unchanged: the emitted .d.ts of `files` is identical on base and candidate.
     * llm_judge: asks the configured judge provider; without one the requirement is 'unverified'.
     * Absent: 'unverified' (never passed).
     */
    verify: z.enum(['fail_to_pass', 'public_api_unchanged', 'llm_judge']).optional(),
    tests: z.array(z.string().min(1)).optional(),
    files: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const checkSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('patch_applies'), ...common }).strict(),
  z.object({ type: z.literal('tests_pass'), ...common, tests: z.array(z.string().min(1)).default([]) }).strict(),
  z
    .object({ type: z.literal('risk_score_max'), ...common, max: z.number().min(0).max(1), protected_paths: z.array(z.string().min(1)).default([]) })
    .strict(),
  z.object({ type: z.literal('structured_requirements'), ...common, requirements: z.array(requirementSchema).min(1) }).strict(),
  z.object({ type: z.literal('exact'), ...textCommon, expected: z.string(), trim: z.boolean().default(true) }).strict(),
  z
    .object({
      type: z.literal('contains'),
      ...textCommon,
      values: z.array(z.string().min(1)).min(1),
      match: z.enum(['all', 'any', 'none']).default('all'),
      case_sensitive: z.boolean().default(true),
    })
    .strict(),
  z.object({ type: z.literal('regex'), ...textCommon, pattern: z.string().min(1), flags: z.string().regex(/^[imsu]*$/, "allowed flags: i m s u").default('') }).strict(),
  z.object({ type: z.literal('json_schema'), ...textCommon, schema: z.record(z.unknown()) }).strict(),
  z
    .object({
      type: z.literal('semantic'),
      ...textCommon,
      expected: z.string().min(1),
      min_similarity: z.number().min(0).max(1).default(0.7),
      provider: z.string().default('lexical'),
    })
    .strict(),
  /** Share of a change's acceptance criteria (SpecSynth) that the candidate's tests cite (evals/checks/spec-coverage.ts). */
  z
    .object({ type: z.literal('spec_coverage'), ...common, spec: specSchema.optional(), spec_file: z.string().min(1).optional(), test_dirs: z.array(z.string().min(1)).min(1).default(['.']) })
    .strict(),
  /** PASS_TO_PASS: the base's tests (and test command) judge the candidate's source, see evals/checks/base-tests.ts. */
  z.object({ type: z.literal('base_tests_pass'), ...common }).strict(),
  /** Diff coverage: the share of changed source code lines the candidate's test run executes (evals/checks/diff-coverage.ts). */
  z.object({ type: z.literal('changed_lines_covered'), ...common, pass_at: z.number().min(0).max(1).default(0.8) }).strict(),
  /** Mutation score of the changed code lines under the candidate's tests, Stryker (evals/checks/mutation-score.ts). */
  z
    .object({
      type: z.literal('mutation_score'),
      ...common,
      pass_at: z.number().min(0).max(1).default(0.7),
      /** Also mutate the lines the change rewrites, on the base with the base's tests. */
      compare_base: z.boolean().default(true),
      /** Stryker's test processes at once (each runs the whole test command). */
      concurrency: z.number().int().min(1).max(8).default(1),
    })
    .strict(),
]);
export type CheckSpec = z.output<typeof checkSchema>;
export type CheckType = CheckSpec['type'];
export const CHECK_TYPES = checkSchema.options.map((o) => o.shape.type.value) as CheckType[];

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const scenarioSchema = z
  .object({
    id: z.string().regex(SCENARIO_ID, "must look like 'area.name@v1' (lowercase dotted name, '@v', version ≥ 1)"),
    title: z.string().min(1).max(200),
    description: z.string().default(''),
    tags: z.array(z.string().regex(/^[a-z][a-z0-9_-]*(:[a-z0-9][a-z0-9_.-]*)?$/, "'word' or 'key:value', lowercase")).default([]),
    holdout: z.boolean().default(false),
    /** The scenario applies only to repositories that have these files at the candidate commit (else skipped). */
    requires_files: z.array(z.string().min(1)).default([]),
    /**
     * When the release train's gate runs this scenario too (evals/gate.ts `selectScenarios`): a changed file
     * matches one of `paths` (globs, core/glob.ts), or the change request names one of `prompts` or `tags`.
     * Absent: the gate never selects it (task-specific scenarios run only through `maestro evals run`).
     */
    applies_to: z
      .object({
        paths: z.array(z.string().min(1)).default([]),
        prompts: z.array(z.string().regex(/^[a-z][a-z0-9_.-]*$/)).default([]),
        tags: z.array(z.string().regex(/^[a-z][a-z0-9_-]*(:[a-z0-9][a-z0-9_.-]*)?$/)).default([]),
      })
      .strict()
      .optional(),
    weight: weightSchema,
    fixtures: z
      .object({
        prompt: z.string().default(''),
        inputs: z.record(scalar).default({}),
        failing_tests: z.array(z.string().min(1)).default([]),
        /** Files written into the scenario's work dir before the checks run (what the agent was shown). */
        context_files: z.record(z.string()).default({}),
      })
      .strict()
      .default({}),
    checks: z.array(checkSchema).min(1),
    scoring: z.object({ threshold: z.number().min(0).max(1).default(0.85) }).strict().default({}),
    timeout: durationMs.default(120_000),
    repeats: z.number().int().min(1).max(20).default(1),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    const names = new Set<string>();
    scenario.checks.forEach((check, i) => {
      const name = check.name ?? check.type;
      if (names.has(name))
        ctx.addIssue({ code: 'custom', path: ['checks', i, 'name'], message: `check name '${name}' is used twice; give one a distinct 'name'` });
      names.add(name);
      if ('source' in check && check.source === 'command' && !check.command)
        ctx.addIssue({ code: 'custom', path: ['checks', i, 'command'], message: "required when source is 'command' (argv list)" });
      if (check.type === 'regex') {
        try {
          new RegExp(check.pattern, check.flags);
        } catch (error) {
          ctx.addIssue({ code: 'custom', path: ['checks', i, 'pattern'], message: `not a valid regular expression: ${(error as Error).message}` });
        }
      }
    });
    if (scenario.checks.length > 0 && scenario.checks.every((c) => c.weight === 0)) ctx.addIssue({ code: 'custom', path: ['checks'], message: 'at least one check needs a weight > 0' });
  });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export interface Scenario extends z.output<typeof scenarioSchema> {
  /** The dotted name without the version. */
  name: string;
  version: number;
  /** File it was loaded from ('<inline>' for scenarios built in code). */
  file: string;
  /** sha256 of the validated content: part of the cache key, so an edit without a version bump still re-runs. */
  contentHash: string;
}

export interface ScenarioIssue {
  file: string;
  line: number;
  col: number;
  field: string;
  message: string;
}

/** Every problem in one scenario file, each as `file:line:col: field: message`. */
export class ScenarioError extends Error {
  constructor(readonly issues: ScenarioIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ScenarioError';
  }
}

export const formatIssue = (i: ScenarioIssue): string => `${i.file}:${i.line}:${i.col}: ${i.field || '(root)'}: ${i.message}`;

/** Parses and validates one scenario's YAML text; throws ScenarioError naming file:line:col for every issue. */
export function parseScenario(text: string, file = '<inline>'): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  if (doc.errors.length) {
    throw new ScenarioError(
      doc.errors.map((e) => ({ file, ...at(e.pos[0]), field: '', message: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  const raw: unknown = doc.toJS();
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) {
    throw new ScenarioError(
      result.error.issues.map((issue) => {
        const { node, key } = locate(doc, issue.path, issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined);
        const offset = (key ?? node)?.range?.[0] ?? 0;
        return { file, ...at(offset), field: issue.path.join('.'), message: describe(issue, raw, issue.path) };
      }),
    );
  }
  const data = result.data;
  const match = SCENARIO_ID.exec(data.id)!;
  const contentHash = createHash('sha256').update(stableStringify(data)).digest('hex');
  return { ...data, name: match[1], version: Number(match[2]), file, contentHash };
}

/** The deepest YAML node along `path` (the parent when the field is missing), and the key node of an unknown key. */
function locate(doc: Document, path: (string | number)[], unknownKey?: string): { node?: YamlNode; key?: YamlNode } {
  let node = doc.contents as YamlNode | null;
  let keyNode: YamlNode | undefined;
  for (const segment of path) {
    if (!node) break;
    const next = (node as { get?: (k: unknown, keep: boolean) => unknown }).get?.(segment, true) as YamlNode | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === segment);
      if (pair && isScalar(pair.key)) keyNode = pair.key;
    }
    if (next === undefined || next === null || typeof next !== 'object') return { node, key: next === undefined ? node : keyNode };
    node = next;
    keyNode = undefined;
  }
  if (unknownKey && node && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === unknownKey);
    if (pair && isScalar(pair.key)) return { node, key: pair.key };
  }
  return { node: node ?? undefined };
}

function valueAt(raw: unknown, path: (string | number)[]): unknown {
  let v: unknown = raw;
  for (const segment of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[segment] : undefined;
  return v;
}

function describe(issue: z.ZodIssue, raw: unknown, path: (string | number)[]): string {
  switch (issue.code) {
    case 'invalid_union_discriminator':
      return `got '${String(valueAt(raw, path))}', allowed: ${issue.options.map((o) => `'${String(o)}'`).join(', ')}`;
    case 'invalid_enum_value':
      return `got '${String(issue.received)}', allowed: ${issue.options.map((o) => `'${String(o)}'`).join(', ')}`;
    case 'invalid_literal':
      return `expected '${String(issue.expected)}'`;
    case 'invalid_type':
      return issue.received === 'undefined' ? `required (${issue.expected})` : `expected ${issue.expected}, got ${issue.received}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'too_small':
      return issue.type === 'array' ? `needs at least ${String(issue.minimum)} item(s)` : issue.type === 'number' ? `must be ≥ ${String(issue.minimum)}` : issue.message;
    case 'too_big':
      return issue.type === 'number' ? `must be ≤ ${String(issue.maximum)}` : issue.message;
    case 'invalid_string':
      return `got '${String(valueAt(raw, path))}': ${issue.message}`;
    case 'invalid_union':
      return `got ${JSON.stringify(valueAt(raw, path))}; ${issue.unionErrors.map((e) => e.issues[0]?.message).filter(Boolean).join(' or ')}`;
    default:
      return issue.message;
  }
}

/** JSON with sorted object keys: a hash of it does not depend on key order in the YAML. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

export const checkName = (check: CheckSpec): string => check.name ?? check.type;

/** Builds a scenario in code (the release-gate scenario of runEvals, tests); validated like a file. */
export function defineScenario(input: ScenarioInput): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (!result.success)
    throw new ScenarioError(result.error.issues.map((issue) => ({ file: '<inline>', line: 0, col: 0, field: issue.path.join('.'), message: describe(issue, input, issue.path) })));
  const match = SCENARIO_ID.exec(result.data.id)!;
  return { ...result.data, name: match[1], version: Number(match[2]), file: '<inline>', contentHash: createHash('sha256').update(stableStringify(result.data)).digest('hex') };
}
