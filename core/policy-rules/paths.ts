/** Path patterns for protected paths and migration files. */
import picomatch from 'picomatch';
import { globMatcher } from '../glob';

function normalisePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/**
 * True when `path` is protected by `pattern`: the same path, a file under that directory, or a match
 * of the glob (core/glob.ts; `?` is literal). A glob that matches a directory also protects
 * everything under it.
 */
export function matchesPathPattern(path: string, pattern: string): boolean {
  const p = normalisePath(path);
  const pat = normalisePath(pattern);
  // An empty path needs no check of its own: it equals no pattern left here, starts with none followed by '/',
  // and picomatch never matches '' (its test() answers false for empty input).
  if (pat === '') return false;
  if (p === pat || p.startsWith(pat + '/')) return true;
  if (!picomatch.scan(pat).isGlob) return false;
  return globMatcher(pat, 'literal', 'self-or-below')(p);
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
