/**
 * Mutation testing of one change (issue 14): what a Stryker JSON report (mutation-testing-report-schema) says about
 * the lines a change touches, and the smallest next step for each mutant its tests leave alive — a test outline
 * derived from the mutant itself (`a < b` → `a <= b` survives: test where a equals b). Pure: the eval check
 * `mutation_score` (evals/checks/mutation-score.ts) runs Stryker and summarises its report here; the policy rule
 * `mutation-score-below-threshold` reads the summary from the EvalReport.
 */
import { z } from 'zod';
import { lineRuns } from './diff';

const position = z.object({ line: z.number().int().min(1), column: z.number().int().min(0) }).passthrough();

/** The part of a Stryker JSON report this module reads; the rest passes through. */
export const strykerReportSchema = z
  .object({
    files: z.record(
      z
        .object({
          source: z.string(),
          mutants: z.array(
            z
              .object({
                mutatorName: z.string().min(1),
                replacement: z.string().optional(),
                status: z.enum(['Killed', 'Survived', 'NoCoverage', 'Timeout', 'CompileError', 'RuntimeError', 'Ignored', 'Pending']),
                location: z.object({ start: position, end: position }).passthrough(),
              })
              .passthrough(),
          ),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type StrykerReport = z.output<typeof strykerReportSchema>;

/** A mutant no test killed: Survived (tests ran it and passed) or NoCoverage (no test reached it). */
export interface LiveMutant {
  file: string;
  line: number;
  column: number;
  mutator: string;
  /** The code the mutant replaced, and what it put there. */
  original: string;
  replacement: string;
  status: 'Survived' | 'NoCoverage';
}

export interface MutationRun {
  /** (killed + timeout) / (killed + timeout + survived + no coverage); null when there was no mutant to judge. */
  score: number | null;
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  /** Mutants that did not compile or crashed the run: not counted in the score. */
  errors: number;
  survivors: LiveMutant[];
}

/** One change's mutation figures as the EvalReport carries them (`EvalReport.mutation`). */
export interface ChangeMutationReport {
  /** The eval check that measured it, and its pass mark (a share in [0,1]). */
  check: string;
  passAt: number;
  /** Stryker `mutate` ranges run on the candidate (`file:start-end`, the changed code lines). */
  mutated: string[];
  candidate: MutationRun;
  /** The same files' lines the change rewrites or removes, mutated on the base with the base's tests; null when not measured. */
  base: (MutationRun & { mutated: string[] }) | null;
  /** Why `base` is null. */
  baseNote?: string;
  durationMs: number;
}

export const liveMutantSchema = z
  .object({
    file: z.string().min(1),
    line: z.number().int().min(1),
    column: z.number().int().min(0),
    mutator: z.string().min(1),
    original: z.string(),
    replacement: z.string(),
    status: z.enum(['Survived', 'NoCoverage']),
  })
  .strict();
const count = z.number().int().min(0);
export const mutationRunSchema = z
  .object({ score: z.number().min(0).max(1).nullable(), killed: count, survived: count, noCoverage: count, timeout: count, errors: count, survivors: z.array(liveMutantSchema) })
  .strict();
export const changeMutationReportSchema = z
  .object({
    check: z.string().min(1),
    passAt: z.number().min(0).max(1),
    mutated: z.array(z.string().min(1)),
    candidate: mutationRunSchema,
    base: mutationRunSchema.extend({ mutated: z.array(z.string().min(1)) }).nullable(),
    baseNote: z.string().optional(),
    durationMs: z.number().min(0),
  })
  .strict();

/** Stryker `mutate` entries for the given lines: consecutive lines of a file folded into `file:start-end`. */
export function mutateRanges(lines: readonly { file: string; line: number }[]): string[] {
  return [...lineRuns(lines)].flatMap(([file, runs]) => runs.map(([first, last]) => `${file}:${first}-${last}`));
}

/** The source text between two report positions (lines 1-based, columns 1-based as the report schema has them). */
function sourceBetween(source: string, start: { line: number; column: number }, end: { line: number; column: number }): string {
  const lines = source.split('\n');
  if (start.line === end.line) return (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1);
  const middle = lines.slice(start.line, end.line - 1);
  return [(lines[start.line - 1] ?? '').slice(start.column - 1), ...middle, (lines[end.line - 1] ?? '').slice(0, end.column - 1)].join('\n');
}

/** Counts, score and live mutants of a report (its files as the report names them, relative to the run's root). */
export function summarizeReport(report: StrykerReport): MutationRun {
  const run: MutationRun = { score: null, killed: 0, survived: 0, noCoverage: 0, timeout: 0, errors: 0, survivors: [] };
  for (const [file, { source, mutants }] of Object.entries(report.files))
    for (const mutant of mutants) {
      if (mutant.status === 'Killed') run.killed++;
      else if (mutant.status === 'Timeout') run.timeout++;
      else if (mutant.status === 'CompileError' || mutant.status === 'RuntimeError') run.errors++;
      else if (mutant.status === 'Survived' || mutant.status === 'NoCoverage') {
        if (mutant.status === 'Survived') run.survived++;
        else run.noCoverage++;
        const { start, end } = mutant.location;
        run.survivors.push({
          file,
          line: start.line,
          column: start.column,
          mutator: mutant.mutatorName,
          original: sourceBetween(source, start, end),
          replacement: mutant.replacement ?? '',
          status: mutant.status,
        });
      }
    }
  const detected = run.killed + run.timeout;
  const valid = detected + run.survived + run.noCoverage;
  run.score = valid > 0 ? detected / valid : null;
  run.survivors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return run;
}

/** `a` of at most `max` characters on one line, for messages. */
const short = (code: string, max = 60): string => {
  const flat = code.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
};
const code = (text: string): string => `\`${short(text)}\``;

// Stryker disable next-line Regex: the anchors are equivalent (a lazy first group can always start at 0, a greedy last one always runs to the end); every other regex mutant of this line was killed when last enabled (the first `\s*` made `\S*` by the `count<limit` outline test).
const COMPARISON = /^([\s\S]+?)\s*(===|!==|==|!=|<=|>=|<|>)\s*([\s\S]+)$/;
/** Operator pairs that differ only where both sides are equal. */
const BOUNDARY = new Set(['<|<=', '<=|<', '>|>=', '>=|>']);

/** What a test must do to kill this mutant: derived from its mutator, the code it replaced and its replacement. */
export function testOutline(mutant: LiveMutant): string {
  const { original, replacement, mutator } = mutant;
  const at = `${mutant.file}:${mutant.line}`;
  const reach = mutant.status === 'NoCoverage' ? `no test reaches ${at} yet: call it, then ` : '';
  const swap = `${code(original)} and ${code(replacement)}`;
  switch (mutator) {
    case 'EqualityOperator': {
      const before = COMPARISON.exec(original);
      const after = COMPARISON.exec(replacement);
      if (before && after) {
        const [, left, op, right] = before;
        if (BOUNDARY.has(`${op}|${after[2]}`))
          return `${reach}a test where ${code(left)} equals ${code(right)}: only there do ${swap} differ; assert the outcome at that boundary`;
        return `${reach}two tests, one where ${code(original)} holds and one where it does not (${code(replacement)} flips it), each asserting the outcome`;
      }
      break;
    }
    case 'ConditionalExpression':
      if (replacement === 'true') return `${reach}a test where ${code(original)} is false, asserting what happens then (the mutant always takes the true path)`;
      if (replacement === 'false') return `${reach}a test where ${code(original)} is true, asserting what happens then (the mutant never takes that path)`;
      break;
    case 'LogicalOperator': {
      // Stryker disable next-line Regex: equivalent: the original is one whole logical expression and `code()` trims the parts, so the anchors and the whitespace classes around the operator change no outline (multi-word operands are tested).
      const parts = /^([\s\S]+?)\s*(&&|\|\||\?\?)\s*([\s\S]+)$/.exec(original);
      if (parts) {
        const [, left, op, right] = parts;
        if (op === '??' || replacement.includes('??')) return `${reach}a test where ${code(left)} is a falsy value that is not null or undefined (0, '', false), so ${swap} differ`;
        return `${reach}a test where exactly one of ${code(left)} and ${code(right)} holds, so ${swap} differ`;
      }
      break;
    }
    case 'StringLiteral':
      return original.length <= 2
        ? `${reach}assert the exact value built from the empty string at ${at} (the mutant puts text there)`
        : `${reach}assert the exact text that ${code(original)} produces at ${at} (the whole message, not only that there is one): the mutant empties it`;
    case 'BooleanLiteral':
      return `${reach}assert the value at ${at} where ${code(original)} is used: the mutant makes it ${code(replacement)} and no test notices`;
    case 'BlockStatement':
      return `${reach}a test that runs the block at ${at} and asserts one of its effects (what it returns, throws or changes): the mutant empties it`;
    case 'ArrayDeclaration':
    case 'ObjectLiteral':
      return `${reach}assert the contents of ${code(original)} at ${at}, not only that it exists: the mutant makes it ${code(replacement)}`;
    case 'MethodExpression':
      return `${reach}a test whose input makes ${swap} return different values (e.g. whitespace or case at the side only one of them handles), asserting the result`;
    case 'Regex':
      return `${reach}a test with an input that ${code(original)} and ${code(replacement)} classify differently, asserting the outcome`;
    case 'ArithmeticOperator':
    case 'AssignmentOperator':
    case 'UnaryOperator':
    case 'UpdateOperator':
      return `${reach}a test whose inputs make ${swap} compute different values (avoid 0 and 1, which hide + − × ÷ swaps), asserting the computed value`;
    case 'OptionalChaining':
      return `${reach}a test where the value before ${code(original)} is null or undefined, asserting no error is thrown`;
  }
  return `${reach}a test that reaches ${at} and asserts a result that changes when ${code(original)} becomes ${code(replacement)}`;
}

/** `src/a.ts:12:7 EqualityOperator \`a < b\` → \`a <= b\` (survived)`. */
export function describeMutant(mutant: LiveMutant): string {
  return `${mutant.file}:${mutant.line}:${mutant.column} ${mutant.mutator} ${code(mutant.original)} → ${code(mutant.replacement)} (${mutant.status === 'Survived' ? 'survived' : 'no test reaches it'})`;
}

export const formatScore = (score: number | null): string => (score === null ? 'n/a' : `${(score * 100).toFixed(1)}%`);

/** One line of figures: `score 33.3% (4 killed, 8 survived, 0 no coverage, 0 timeout)`. */
export function describeRun(run: MutationRun): string {
  return `score ${formatScore(run.score)} (${run.killed} killed, ${run.survived} survived, ${run.noCoverage} no coverage, ${run.timeout} timeout${run.errors ? `, ${run.errors} not compiling` : ''})`;
}
