/** Reads what core/test-changes.ts analyses from a repository: the diff, the touched files and the base's tests. */
import { git } from '../io/git';
import { analyzeTestChanges, isTestFile, type TestChangeAnalysis } from '../core/test-changes';

/** `git show sha:file`, undefined when the file is not in that commit. */
async function showFile(repo: string, sha: string, file: string): Promise<string | undefined> {
  const shown = await git(repo, ['show', `${sha}:${file}`], { allowExitCodes: [128] });
  return shown.exitCode === 0 ? shown.stdout : undefined;
}

export async function collectTestChanges(repo: string, baseSha: string, candidateSha: string, intent?: string): Promise<TestChangeAnalysis> {
  const diff = (await git(repo, ['diff', '--no-renames', '--no-color', '--no-ext-diff', baseSha, candidateSha])).stdout;
  const changed = (await git(repo, ['diff', '--name-only', '--no-renames', '-z', baseSha, candidateSha])).stdout.split('\0').filter(Boolean);
  const files: Record<string, { base?: string; candidate?: string }> = {};
  for (const file of changed) files[file] = { base: await showFile(repo, baseSha, file), candidate: await showFile(repo, candidateSha, file) };
  const tracked = (await git(repo, ['ls-tree', '-r', '--name-only', '-z', baseSha])).stdout.split('\0').filter((f) => f && isTestFile(f));
  const baseTestFiles: Record<string, string> = {};
  for (const file of tracked) {
    const text = files[file]?.base ?? (await showFile(repo, baseSha, file));
    if (text !== undefined) baseTestFiles[file] = text;
  }
  return analyzeTestChanges({ diff, files, baseTestFiles, intent });
}
