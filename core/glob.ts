/**
 * The body of a regular expression for a path glob: `**` followed by a slash matches zero or more whole
 * directories, a bare `**` anything, `*` anything within one path segment. `?` is one character within a segment when
 * `questionMark` is 'wildcard' (gitignore, CODEOWNERS) and itself when 'literal' (policy patterns).
 */
export function globToRegExpSource(glob: string, questionMark: 'wildcard' | 'literal'): string {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      if (glob[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?' && questionMark === 'wildcard') source += '[^/]';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return source;
}
