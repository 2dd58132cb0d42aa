/** replace-literal: a plain text replacement in one file (any file, not only TypeScript). */
import { promises as fs, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { unifiedDiff } from './diff';
import { CodemodError } from './transforms';
import { resolveInsideRepo } from './workspace';

/** `from` must occur exactly once in `file`: zero is an unknown literal, more is ambiguous. */
export async function replaceLiteral(repoRoot: string, file: string, from: string, to: string, dryRun = false): Promise<{ changedFiles: string[]; diff: string; alreadyApplied: boolean }> {
  const root = realpathSync(repoRoot);
  const target = resolveInsideRepo(root, file);
  let text: string;
  try {
    text = await fs.readFile(target, 'utf8');
  } catch {
    throw new CodemodError(`replace-literal: file '${file}' does not exist in the repository`);
  }
  const first = text.indexOf(from);
  if (first < 0) {
    if (to !== '' && text.includes(to) && text.split(to).length === 2) return { changedFiles: [], diff: '', alreadyApplied: true };
    throw new CodemodError(`replace-literal: ${JSON.stringify(from)} not found in ${file}`);
  }
  const second = text.indexOf(from, first + 1);
  if (second >= 0) {
    const lines = [first, second].map((offset) => text.slice(0, offset).split('\n').length);
    throw new CodemodError(`replace-literal: ${JSON.stringify(from)} is ambiguous in ${file} (lines ${lines.join(', ')}, …); make it unique`);
  }
  if (from === to) throw new CodemodError('replace-literal: from and to are the same; nothing would change');
  const after = text.slice(0, first) + to + text.slice(first + from.length);
  const rel = path.relative(root, target).split(path.sep).join('/');
  if (!dryRun) await fs.writeFile(target, after);
  return { changedFiles: [rel], diff: unifiedDiff(rel, rel, text, after), alreadyApplied: false };
}
