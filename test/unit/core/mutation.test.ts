import fc from 'fast-check';
import { describeMutant, describeRun, mutateRanges, strykerReportSchema, summarizeReport, testOutline, type LiveMutant } from '../../../core/mutation';

const mutant = (over: Partial<LiveMutant>): LiveMutant => ({ file: 'src/a.ts', line: 3, column: 7, mutator: 'EqualityOperator', original: 'a < b', replacement: 'a <= b', status: 'Survived', ...over });

describe('mutateRanges', () => {
  it('folds consecutive lines of a file into start-end ranges, files in the order they come', () => {
    expect(mutateRanges([{ file: 'src/b.ts', line: 4 }, { file: 'src/a.ts', line: 2 }, { file: 'src/b.ts', line: 3 }, { file: 'src/b.ts', line: 9 }, { file: 'src/b.ts', line: 3 }])).toEqual([
      'src/b.ts:3-4',
      'src/b.ts:9-9',
      'src/a.ts:2-2',
    ]);
    expect(mutateRanges([])).toEqual([]);
  });

  it('property: the ranges cover exactly the given lines, and no two ranges of a file touch', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ file: fc.constantFrom('a.ts', 'b/c.ts'), line: fc.integer({ min: 1, max: 40 }) })), (lines) => {
        const ranges = mutateRanges(lines).map((r) => /^(.+):(\d+)-(\d+)$/.exec(r)!);
        const covered = new Set(ranges.flatMap(([, file, from, to]) => Array.from({ length: Number(to) - Number(from) + 1 }, (_, i) => `${file}:${Number(from) + i}`)));
        expect(covered).toEqual(new Set(lines.map((l) => `${l.file}:${l.line}`)));
        for (let i = 1; i < ranges.length; i++) if (ranges[i][1] === ranges[i - 1][1]) expect(Number(ranges[i][2])).toBeGreaterThan(Number(ranges[i - 1][3]) + 1);
      }),
    );
  });
});

describe('summarizeReport', () => {
  const source = 'export function f(hour: number): string {\n  if (hour < 12) return "am";\n  return "pm";\n}\n';
  const at = (line: number, column: number, endColumn: number) => ({ start: { line, column }, end: { line, column: endColumn } });
  const report = strykerReportSchema.parse({
    schemaVersion: '2',
    files: {
      'src/f.ts': {
        language: 'typescript',
        source,
        mutants: [
          { id: '1', mutatorName: 'EqualityOperator', replacement: 'hour <= 12', status: 'Survived', location: at(2, 7, 16) },
          { id: '2', mutatorName: 'ConditionalExpression', replacement: 'false', status: 'Killed', location: at(2, 7, 16) },
          { id: '3', mutatorName: 'StringLiteral', replacement: '""', status: 'NoCoverage', location: at(3, 10, 14) },
          { id: '4', mutatorName: 'BlockStatement', replacement: '{}', status: 'Timeout', location: { start: { line: 1, column: 41 }, end: { line: 4, column: 2 } } },
          { id: '5', mutatorName: 'StringLiteral', replacement: '""', status: 'CompileError', location: at(2, 25, 29) },
          { id: '6', mutatorName: 'StringLiteral', replacement: '""', status: 'Ignored', location: at(2, 25, 29) },
        ],
      },
    },
  });

  it('counts by status, scores detected over judged (errors and ignored aside) and cuts the original code out of the source', () => {
    const run = summarizeReport(report);
    expect(run).toMatchObject({ killed: 1, survived: 1, noCoverage: 1, timeout: 1, errors: 1, score: 0.5 });
    expect(run.survivors).toEqual([
      { file: 'src/f.ts', line: 2, column: 7, mutator: 'EqualityOperator', original: 'hour < 12', replacement: 'hour <= 12', status: 'Survived' },
      { file: 'src/f.ts', line: 3, column: 10, mutator: 'StringLiteral', original: '"pm"', replacement: '""', status: 'NoCoverage' },
    ]);
    expect(describeRun(run)).toBe('score 50.0% (1 killed, 1 survived, 1 no coverage, 1 timeout, 1 not compiling)');
  });

  it('a multi-line mutant keeps its lines; a report without mutants has no score', () => {
    const block = summarizeReport(strykerReportSchema.parse({ files: { 'src/f.ts': { source, mutants: [{ ...report.files['src/f.ts'].mutants[3], status: 'Survived' }] } } }));
    expect(block.survivors[0].original).toBe('{\n  if (hour < 12) return "am";\n  return "pm";\n}');
    expect(summarizeReport(strykerReportSchema.parse({ files: {} }))).toMatchObject({ score: null, survivors: [] });
  });

  it('rejects a report that is not a mutation-testing report', () => {
    expect(strykerReportSchema.safeParse({ files: { 'a.ts': { mutants: [] } } }).success).toBe(false);
    expect(strykerReportSchema.safeParse({ files: { 'a.ts': { source: '', mutants: [{ mutatorName: 'X', status: 'Maybe', location: at(1, 1, 2) }] } } }).success).toBe(false);
  });
});

describe('testOutline: the test that kills a mutant, derived from the mutant', () => {
  it('a boundary swap asks for the boundary itself', () => {
    expect(testOutline(mutant({ original: '[...name].length > MAX_NAME_LENGTH', replacement: '[...name].length >= MAX_NAME_LENGTH' }))).toBe(
      'a test where `[...name].length` equals `MAX_NAME_LENGTH`: only there do `[...name].length > MAX_NAME_LENGTH` and `[...name].length >= MAX_NAME_LENGTH` differ; assert the outcome at that boundary',
    );
    expect(testOutline(mutant({ original: 'a === b', replacement: 'a !== b' }))).toBe('two tests, one where `a === b` holds and one where it does not (`a !== b` flips it), each asserting the outcome');
  });

  it('conditions, logic, literals and blocks each get their own outline; a mutant no test reaches says so first', () => {
    expect(testOutline(mutant({ mutator: 'ConditionalExpression', original: 'hour < 12', replacement: 'true' }))).toBe(
      'a test where `hour < 12` is false, asserting what happens then (the mutant always takes the true path)',
    );
    expect(testOutline(mutant({ mutator: 'ConditionalExpression', original: 'ok', replacement: 'false' }))).toMatch(/^a test where `ok` is true/);
    expect(testOutline(mutant({ mutator: 'LogicalOperator', original: 'a && b', replacement: 'a || b' }))).toBe('a test where exactly one of `a` and `b` holds, so `a && b` and `a || b` differ');
    expect(testOutline(mutant({ mutator: 'LogicalOperator', original: 'count > 0 && user.age >= 18', replacement: 'count > 0 || user.age >= 18' }))).toMatch(
      /^a test where exactly one of `count > 0` and `user.age >= 18` holds/,
    );
    expect(testOutline(mutant({ mutator: 'LogicalOperator', original: 'x ?? 1', replacement: 'x && 1' }))).toMatch(/falsy value that is not null or undefined/);
    expect(testOutline(mutant({ mutator: 'StringLiteral', original: "'Good evening'", replacement: '""' }))).toBe(
      "assert the exact text that `'Good evening'` produces at src/a.ts:3 (the whole message, not only that there is one): the mutant empties it",
    );
    expect(testOutline(mutant({ mutator: 'StringLiteral', original: '""', replacement: '"Stryker was here!"' }))).toMatch(/empty string/);
    expect(testOutline(mutant({ mutator: 'BlockStatement', original: '{ log(); }', replacement: '{}', status: 'NoCoverage' }))).toBe(
      'no test reaches src/a.ts:3 yet: call it, then a test that runs the block at src/a.ts:3 and asserts one of its effects (what it returns, throws or changes): the mutant empties it',
    );
    expect(testOutline(mutant({ mutator: 'MethodExpression', original: 's.trimEnd()', replacement: 's.trimStart()' }))).toMatch(/input makes `s.trimEnd\(\)` and `s.trimStart\(\)` return different values/);
    expect(testOutline(mutant({ mutator: 'ArithmeticOperator', original: 'a * b', replacement: 'a / b' }))).toMatch(/avoid 0 and 1/);
    expect(testOutline(mutant({ mutator: 'SomethingNew', original: 'x', replacement: 'y' }))).toBe('a test that reaches src/a.ts:3 and asserts a result that changes when `x` becomes `y`');
  });

  it('every mutator Stryker has gets the outline of its kind (found by running Stryker on this module: these cases were unreached)', () => {
    const outline = (mutator: string, original: string, replacement: string) => testOutline(mutant({ mutator, original, replacement }));
    expect(outline('ConditionalExpression', 'ok', 'false')).toBe('a test where `ok` is true, asserting what happens then (the mutant never takes that path)');
    expect(outline('BooleanLiteral', 'true', 'false')).toBe('assert the value at src/a.ts:3 where `true` is used: the mutant makes it `false` and no test notices');
    for (const mutator of ['ArrayDeclaration', 'ObjectLiteral'])
      expect(outline(mutator, '{ a: 1 }', '{}')).toBe('assert the contents of `{ a: 1 }` at src/a.ts:3, not only that it exists: the mutant makes it `{}`');
    expect(outline('Regex', '/^a+$/', '/a+$/')).toBe('a test with an input that `/^a+$/` and `/a+$/` classify differently, asserting the outcome');
    for (const mutator of ['ArithmeticOperator', 'AssignmentOperator', 'UnaryOperator', 'UpdateOperator'])
      expect(outline(mutator, 'i++', 'i--')).toBe('a test whose inputs make `i++` and `i--` compute different values (avoid 0 and 1, which hide + − × ÷ swaps), asserting the computed value');
    expect(outline('OptionalChaining', 'a?.b', 'a.b')).toBe('a test where the value before `a?.b` is null or undefined, asserting no error is thrown');
  });

  it('describes a mutant on one line, long code shortened', () => {
    expect(describeMutant(mutant({}))).toBe('src/a.ts:3:7 EqualityOperator `a < b` → `a <= b` (survived)');
    expect(describeMutant(mutant({ original: `f(${'x'.repeat(80)})`, status: 'NoCoverage' }))).toMatch(/`f\(x+…` → `a <= b` \(no test reaches it\)$/);
  });
});
