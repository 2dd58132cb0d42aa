/**
 * spec_coverage: the share of the change's acceptance criteria (core/spec.ts, SpecSynth) that the candidate's
 * tests cite — `// covers: AC-<change>-<n>` comments or ids in test titles — found in the candidate work tree.
 *   spec        the Spec inline (the release train passes the one synthesizeSpec produced), or
 *   spec_file   a JSON Spec in the candidate tree;
 *   test_dirs   where to look for test files (default the whole tree).
 * Score = covered / total criteria; passes at pass_at (default 1: every criterion covered). Scenarios no test
 * cites are listed but not scored. The explanation's first line is what policy (spec-criteria-uncovered) reads.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { traceSpecInRepo } from '../../specsynth/store';
import { describeSpecCoverage, specCoverage, specSchema } from '../../core/spec';
import type { Spec } from '../../core/stages';
import type { CheckContext, CheckImpl, CheckOutcome } from './types';

function insideWorkDir(ctx: CheckContext, relative: string, what: string): string {
  const resolved = path.resolve(ctx.workDir, relative);
  const rel = path.relative(ctx.workDir, resolved);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${what} '${relative}' is outside the candidate's work tree`);
  return resolved;
}

async function readSpecFile(ctx: CheckContext, file: string): Promise<Spec> {
  const text = await fs.readFile(insideWorkDir(ctx, file, 'spec_file'), 'utf8').catch(() => {
    throw new Error(`spec_file '${file}' does not exist in the candidate`);
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`spec_file '${file}' is not JSON: ${(error as Error).message}`);
  }
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`spec_file '${file}' is not a valid spec: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export const specCoverageCheck: CheckImpl<'spec_coverage'> = async (check, ctx): Promise<CheckOutcome> => {
  if (!check.spec && !check.spec_file) return { score: 0, passed: false, status: 'error', explanation: 'spec_coverage needs the spec: `spec` (inline) or `spec_file` (JSON in the candidate tree)' };
  const spec = check.spec ?? (await readSpecFile(ctx, check.spec_file!));
  for (const dir of check.test_dirs) insideWorkDir(ctx, dir, 'test_dirs entry');
  const trace = await traceSpecInRepo(spec, ctx.workDir, check.test_dirs);
  const coverage = specCoverage(trace);
  const unknown = trace.unknown.map((u) => `  ${u.file}:${u.line} cites ${u.id}, which the spec does not have`);
  return {
    score: coverage.score,
    explanation: [describeSpecCoverage(coverage), ...unknown].join('\n'),
    details: { coverage, citations: trace.rows.map((r) => ({ id: r.id, tests: r.tests.map((t) => `${t.file}:${t.line}${t.test ? ` ${t.test}` : ''}`) })), unknown: trace.unknown },
  };
};
