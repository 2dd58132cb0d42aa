/**
 * RefactorSurgeon: codemods declared as data (core/change-request.ts `codemodSchema`) and applied with
 * ts-morph. `applyCodemod` is the one-shot entry used by prepareChange; `RefactorWorkspace` keeps the
 * project loaded for many codemods in a row (CLI, bench).
 */
import type { Codemod } from '../core/change-request';
import { codemodSchema } from '../core/change-request';
import { parseOrThrow } from '../core/validation';
import { replaceLiteral } from './literal';
import { RefactorWorkspace, type ApplyOptions, type RefactorResult } from './workspace';

export { CodemodError, parseCallPattern, matchCall, fillTemplate, type TsCodemod } from './transforms';
export { RefactorWorkspace, resolveInsideRepo, apiIntent, isTestFile, type ApplyOptions, type OpenOptions, type RefactorResult } from './workspace';
export { unifiedDiff, diffLines } from './diff';

export interface CodemodResult extends Partial<RefactorResult> {
  /** Repo-relative paths (forward slashes) of the files the codemod rewrote, created or deleted. */
  changedFiles: string[];
  diff: string;
  alreadyApplied: boolean;
}

/** Validates a codemod given as data (JSON), naming the bad fields. */
export function parseCodemod(input: unknown): Codemod {
  return parseOrThrow(codemodSchema, input, 'codemod');
}

/** Applies one codemod to the repository at `repoRoot`; on any error the working tree is left untouched. */
export async function applyCodemod(repoRoot: string, codemod: Codemod, options: ApplyOptions = {}): Promise<CodemodResult> {
  if (codemod.codemod === 'replace-literal') return replaceLiteral(repoRoot, codemod.file, codemod.from, codemod.to, options.dryRun);
  return RefactorWorkspace.open(repoRoot).apply(codemod, options);
}
