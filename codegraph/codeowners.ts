/** CODEOWNERS (GitHub syntax): the last matching pattern wins; patterns follow gitignore rules. */
import { globMatcher } from '../core/glob';

export const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'];

export interface CodeownersRule {
  pattern: string;
  owners: string[];
  matches: (file: string) => boolean;
}

/** A gitignore-style pattern as a predicate over repository paths. */
function patternMatcher(pattern: string): (file: string) => boolean {
  let p = pattern;
  const anchored = p.startsWith('/') || p.replace(/\/$/, '').includes('/');
  p = p.replace(/^\//, '');
  const dirOnly = p.endsWith('/');
  p = p.replace(/\/$/, '');
  // A pattern naming a directory owns everything below it; a file pattern also matches as a directory.
  return globMatcher(anchored ? p : `**/${p}`, 'wildcard', dirOnly ? 'below' : 'self-or-below');
}

export function parseCodeowners(text: string): CodeownersRule[] {
  const rules: CodeownersRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (!pattern) continue;
    rules.push({ pattern, owners: owners.map((o) => o.toLowerCase()), matches: patternMatcher(pattern) });
  }
  return rules;
}

/** The owners of a path: those of the last rule that matches it (none when no rule does). */
export function ownersOf(rules: readonly CodeownersRule[], file: string): string[] {
  for (let i = rules.length - 1; i >= 0; i--) if (rules[i]!.matches(file)) return rules[i]!.owners;
  return [];
}
