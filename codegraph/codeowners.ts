/** CODEOWNERS (GitHub syntax): the last matching pattern wins; patterns follow gitignore rules. */
import { globToRegExpSource } from '../core/glob';

export const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'];

export interface CodeownersRule {
  pattern: string;
  owners: string[];
  regex: RegExp;
}

/** A gitignore-style pattern as a regular expression over repository paths. */
export function patternToRegex(pattern: string): RegExp {
  let p = pattern;
  const anchored = p.startsWith('/') || p.replace(/\/$/, '').includes('/');
  p = p.replace(/^\//, '');
  const dirOnly = p.endsWith('/');
  p = p.replace(/\/$/, '');
  const body = globToRegExpSource(p, 'wildcard');
  const prefix = anchored ? '^' : '^(?:.*/)?';
  // A pattern naming a directory owns everything below it; a file pattern also matches as a directory.
  return new RegExp(`${prefix}${body}${dirOnly ? '/.*' : '(?:/.*)?'}$`);
}

export function parseCodeowners(text: string): CodeownersRule[] {
  const rules: CodeownersRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (!pattern) continue;
    rules.push({ pattern, owners: owners.map((o) => o.toLowerCase()), regex: patternToRegex(pattern) });
  }
  return rules;
}

/** The owners of a path: those of the last rule that matches it (none when no rule does). */
export function ownersOf(rules: readonly CodeownersRule[], file: string): string[] {
  for (let i = rules.length - 1; i >= 0; i--) if (rules[i]!.regex.test(file)) return rules[i]!.owners;
  return [];
}
