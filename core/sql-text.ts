/**
 * SQL text for the migration planner: quoting of identifiers and literals, and renaming one column
 * reference inside an expression. PostgreSQL with standard_conforming_strings (the default since 9.1).
 */

/** An identifier as PostgreSQL reads it back unchanged: always double-quoted, inner quotes doubled. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('an SQL identifier cannot be empty');
  if (name.includes('\0')) throw new Error('an SQL identifier cannot contain a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.name`, both quoted. */
export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A string literal: single-quoted, inner quotes doubled (backslashes are plain characters). */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('an SQL string literal cannot contain a NUL character');
  return `'${value.replace(/'/g, "''")}'`;
}

/** PostgreSQL's limit on identifier length, in bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

export const identifierBytes = (name: string): number => new TextEncoder().encode(name).length;

/**
 * Replaces references to column `from` with `to` (quoted) in an SQL expression, leaving string
 * literals, quoted identifiers of other names, and longer words that contain the name untouched.
 * A bare word matches case-insensitively when `from` is all lower case (PostgreSQL folds bare words).
 */
export function renameColumnReference(expression: string, from: string, to: string): string {
  let out = '';
  let i = 0;
  const bareMatches = (word: string): boolean => (from === from.toLowerCase() ? word.toLowerCase() === from : false);
  while (i < expression.length) {
    const ch = expression[i];
    if (ch === "'") {
      const end = endOfQuoted(expression, i, "'");
      out += expression.slice(i, end);
      i = end;
    } else if (ch === '"') {
      const end = endOfQuoted(expression, i, '"');
      const name = expression.slice(i + 1, end - 1).replace(/""/g, '"');
      out += name === from ? quoteIdent(to) : expression.slice(i, end);
      i = end;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      let end = i + 1;
      while (end < expression.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(expression[end])) end++;
      const word = expression.slice(i, end);
      // A qualified name (t.col) or a function call (col(...)) is not this bare column reference.
      const afterDot = expression[i - 1] === '.';
      out += bareMatches(word) && !afterDot ? quoteIdent(to) : word;
      i = end;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Index just past the closing quote of a quoted token starting at `start` (doubled quotes are inside). */
function endOfQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return text.length;
}
