import picomatch from 'picomatch';

/**
 * Bash-style globs over repository paths, by picomatch: `*` within one path segment, `**` as a
 * whole segment across any number of them (elsewhere it is a `*`, as gitignore says), braces
 * `{a,b}`, classes `[ab]` and `[!a]`; dot files match like any other file. `?` is one character
 * within a segment when `questionMark` is 'wildcard' (gitignore, CODEOWNERS) and itself when
 * 'literal' (policy patterns). A leading `!` and parentheses are literal: neither CODEOWNERS nor
 * policy patterns negate, and route directories such as `app/(auth)` are ordinary names (picomatch
 * would pass them through as regular-expression groups).
 */
const OPTIONS: picomatch.PicomatchOptions = { dot: true, posix: true, noextglob: true };

/**
 * Whether a path matches `glob` ('self-or-below': or lies under a directory it matches; 'below':
 * only under one). `dir/**` is what is inside dir, not dir itself, as in gitignore.
 */
export function globMatcher(glob: string, questionMark: 'wildcard' | 'literal', scope: 'self-or-below' | 'below'): (path: string) => boolean {
  let g = glob.replace(/^!/, '\\!').replace(/[()]/g, '\\$&').replace(/\/\*\*$/, '/**/*');
  if (questionMark === 'literal') g = g.replace(/\?/g, '\\?');
  const below = `${g}/**/*`;
  return picomatch(scope === 'below' ? below : [g, below], OPTIONS);
}

/**
 * A test runner's glob (jest's `testMatch`, vitest's `include`/`exclude`) over repository paths: the runners
 * match with micromatch/picomatch and extglobs (`?(x)`, `+(spec|test)` in their defaults), so these do too.
 */
export function testGlobMatcher(glob: string): (path: string) => boolean {
  return picomatch(glob, { dot: true, posix: true });
}
