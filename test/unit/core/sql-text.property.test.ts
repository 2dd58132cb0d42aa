import fc from 'fast-check';
import { quoteIdent, quoteLiteral, renameColumnReference } from '../../../core/sql-text';

/** Reads one double-quoted identifier back the way PostgreSQL's scanner does. */
function unquoteIdent(quoted: string): string {
  expect(quoted.startsWith('"') && quoted.endsWith('"')).toBe(true);
  const inner = quoted.slice(1, -1);
  // Inside, every quote is doubled: no lone quote could end the identifier early.
  expect(inner.replace(/""/g, '')).not.toContain('"');
  return inner.replace(/""/g, '"');
}

const name = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\0'));
const bareWord = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);

describe('quoteIdent / quoteLiteral', () => {
  it('reads back as the same name for any name, quotes and spaces included', () => {
    fc.assert(fc.property(name, (n) => expect(unquoteIdent(quoteIdent(n))).toBe(n)));
  });

  it('quotes a literal so that no lone single quote remains inside', () => {
    fc.assert(
      fc.property(name, (v) => {
        const q = quoteLiteral(v);
        expect(q.slice(1, -1).replace(/''/g, '')).not.toContain("'");
        expect(q.slice(1, -1).replace(/''/g, "'")).toBe(v);
      }),
    );
  });

  it('refuses the empty name and NUL characters', () => {
    expect(() => quoteIdent('')).toThrow(/empty/);
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
    expect(() => quoteLiteral('a\0b')).toThrow(/NUL/);
  });
});

describe('renameColumnReference', () => {
  it('renames bare and quoted references but not literals, longer words, qualified names or other quoted names', () => {
    expect(renameColumnReference(`x > 0 AND "x" < 10 AND x2 = 'x' AND t.x = 1 AND "X" = 2 AND X = 3`, 'x', '_mc_new_x')).toBe(
      `"_mc_new_x" > 0 AND "_mc_new_x" < 10 AND x2 = 'x' AND t.x = 1 AND "X" = 2 AND "_mc_new_x" = 3`,
    );
    expect(renameColumnReference(`"Mixed Case" <> ''`, 'Mixed Case', 'n')).toBe(`"n" <> ''`);
  });

  it('changes nothing when the column is not referenced', () => {
    fc.assert(
      fc.property(bareWord, bareWord, fc.string(), (from, other, literal) => {
        fc.pre(from !== other);
        const expr = `${other} = ${quoteLiteral(literal + from)} OR ${other}${from} IS NULL`;
        expect(renameColumnReference(expr, from, 'renamed')).toBe(expr);
      }),
    );
  });

  it('renames every reference, so renaming back restores the expression', () => {
    fc.assert(
      fc.property(bareWord, fc.array(fc.constantFrom('=', '<', '+', ' AND '), { minLength: 1, maxLength: 4 }), (col, ops) => {
        const expr = ops.map((op, i) => `${col} ${op} ${i}`).join(' OR ');
        const renamed = renameColumnReference(expr, col, '_mc_new_col');
        expect(renamed).not.toMatch(new RegExp(`(^|[^_a-z0-9"])${col}([^_a-z0-9"]|$)`));
        expect(renamed.split('"_mc_new_col"').length - 1).toBe(ops.length);
        expect(renameColumnReference(renamed, '_mc_new_col', col)).toBe(expr.split(col).join(`"${col}"`));
      }),
    );
  });
});
