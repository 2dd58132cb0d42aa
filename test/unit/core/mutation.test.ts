import fc from 'fast-check';
import {
  changeMutationReportSchema,
  describeMutant,
  describeRun,
  formatScore,
  liveMutantSchema,
  mutateRanges,
  mutationRunSchema,
  strykerReportSchema,
  summarizeReport,
  testOutline,
  type ChangeMutationReport,
  type LiveMutant,
  type MutationRun,
} from '../../../core/mutation';

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

describe('the schemas an EvalReport and a Stryker report are read with', () => {
  const live: LiveMutant = { file: 'src/a.ts', line: 1, column: 0, mutator: 'EqualityOperator', original: 'a < b', replacement: 'a <= b', status: 'NoCoverage' };
  const run: MutationRun = { score: 0, killed: 0, survived: 0, noCoverage: 1, timeout: 0, errors: 0, survivors: [live] };
  const change: ChangeMutationReport = { check: 'mutation_score', passAt: 1, mutated: ['src/a.ts:1-1'], candidate: run, base: { ...run, score: 1, mutated: ['src/a.ts:1-1'] }, durationMs: 0 };
  const accepts = (over: Record<string, unknown>) => changeMutationReportSchema.safeParse({ ...change, ...over }).success;
  const acceptsRun = (over: Record<string, unknown>) => mutationRunSchema.safeParse({ ...run, ...over }).success;
  const acceptsLive = (over: Record<string, unknown>) => liveMutantSchema.safeParse({ ...live, ...over }).success;

  it('accept a change report at its bounds (first line, column 0, score and pass mark 0 or 1, no base, zero duration)', () => {
    expect(changeMutationReportSchema.parse(change)).toEqual(change);
    expect(accepts({ base: null, baseNote: 'no line rewritten', passAt: 0 })).toBe(true);
    expect(acceptsRun({ score: null, survivors: [] })).toBe(true);
    expect(acceptsRun({ score: 1 })).toBe(true);
    for (const status of ['Survived', 'NoCoverage']) expect(acceptsLive({ status })).toBe(true);
    expect(acceptsLive({ original: '', replacement: '' })).toBe(true);
  });

  it('reject figures out of range, empty names and keys they do not know', () => {
    expect(accepts({ check: '' })).toBe(false);
    expect(accepts({ passAt: 1.01 })).toBe(false);
    expect(accepts({ passAt: -0.01 })).toBe(false);
    expect(accepts({ mutated: [''] })).toBe(false);
    expect(accepts({ durationMs: -1 })).toBe(false);
    expect(accepts({ extra: true })).toBe(false);
    expect(accepts({ base: { ...run, mutated: [''] } })).toBe(false);
    expect(accepts({ base: run })).toBe(false);
    expect(accepts({ candidate: { ...run, extra: 1 } })).toBe(false);
    expect(acceptsRun({ score: 1.01 })).toBe(false);
    expect(acceptsRun({ score: -0.01 })).toBe(false);
    for (const key of ['killed', 'survived', 'noCoverage', 'timeout', 'errors']) {
      expect(acceptsRun({ [key]: -1 })).toBe(false);
      expect(acceptsRun({ [key]: 1.5 })).toBe(false);
      expect(acceptsRun({ [key]: 7 })).toBe(true);
    }
    expect(acceptsRun({ survivors: [{ ...live, status: 'Killed' }] })).toBe(false);
    expect(acceptsLive({ file: '' })).toBe(false);
    expect(acceptsLive({ mutator: '' })).toBe(false);
    expect(acceptsLive({ line: 0 })).toBe(false);
    expect(acceptsLive({ line: 1.5 })).toBe(false);
    expect(acceptsLive({ column: -1 })).toBe(false);
    expect(acceptsLive({ column: 0.5 })).toBe(false);
    expect(acceptsLive({ extra: 1 })).toBe(false);
  });

  it('a Stryker report: every status Stryker writes is read; positions start at line 1, column 0; other fields pass through', () => {
    const at = { start: { line: 1, column: 0 }, end: { line: 1, column: 2 } };
    const stryker = (mutant: Record<string, unknown>) => strykerReportSchema.safeParse({ files: { 'a.ts': { source: 'ab', mutants: [{ mutatorName: 'StringLiteral', status: 'Killed', location: at, ...mutant }] } } });
    for (const status of ['Killed', 'Survived', 'NoCoverage', 'Timeout', 'CompileError', 'RuntimeError', 'Ignored', 'Pending']) expect(stryker({ status }).success).toBe(true);
    expect(stryker({ mutatorName: '' }).success).toBe(false);
    expect(stryker({ replacement: 7 }).success).toBe(false);
    expect(stryker({ location: { ...at, start: { line: 0, column: 0 } } }).success).toBe(false);
    expect(stryker({ location: { ...at, end: { line: 1, column: -1 } } }).success).toBe(false);
    expect(stryker({ location: { start: at.start } }).success).toBe(false);
    const parsed = strykerReportSchema.parse({ schemaVersion: '2', files: { 'a.ts': { source: 'ab', language: 'typescript', mutants: [{ id: '9', mutatorName: 'StringLiteral', status: 'Killed', location: { start: { line: 1, column: 0, extra: 1 }, end: at.end, tag: 't' } }] } } });
    expect(parsed).toEqual({ schemaVersion: '2', files: { 'a.ts': { source: 'ab', language: 'typescript', mutants: [{ id: '9', mutatorName: 'StringLiteral', status: 'Killed', location: { start: { line: 1, column: 0, extra: 1 }, end: at.end, tag: 't' } }] } } });
  });
});

describe('summarizeReport: order and cut-outs', () => {
  it('lists live mutants by file, then line, then column, whatever order the report has them in', () => {
    const m = (line: number, column: number) => ({ mutatorName: 'BooleanLiteral', replacement: 'false', status: 'Survived' as const, location: { start: { line, column }, end: { line, column: column + 4 } } });
    const source = 'true true true\ntrue true\n';
    const run = summarizeReport(strykerReportSchema.parse({ files: { 'src/b.ts': { source, mutants: [m(2, 6), m(1, 1)] }, 'src/a.ts': { source, mutants: [m(2, 1), m(1, 11), m(1, 6)] } } }));
    expect(run.survivors.map((s) => `${s.file}:${s.line}:${s.column}:${s.original}`)).toEqual(['src/a.ts:1:6:true', 'src/a.ts:1:11:true', 'src/a.ts:2:1:true', 'src/b.ts:1:1:true', 'src/b.ts:2:6:true']);
    expect(run).toMatchObject({ score: 0, survived: 5, killed: 0 });
  });

  it('a location past the end of the source cuts out no text (only the line breaks between its lines); a mutant without a replacement has an empty one', () => {
    const run = summarizeReport(strykerReportSchema.parse({ files: { 'a.ts': { source: 'x\n', mutants: [{ mutatorName: 'BlockStatement', status: 'NoCoverage', location: { start: { line: 5, column: 1 }, end: { line: 7, column: 2 } } }, { mutatorName: 'BlockStatement', status: 'Survived', location: { start: { line: 9, column: 1 }, end: { line: 9, column: 3 } } }] } } }));
    expect(run.survivors.map((s) => [s.original, s.replacement])).toEqual([['\n', ''], ['', '']]);
    expect(run.score).toBe(0);
  });

  it('a multi-line mutant ends at its end column: the rest of its last line is not part of it', () => {
    const source = 'if (a) {\n  b();\n} else c();\n';
    const run = summarizeReport(strykerReportSchema.parse({ files: { 'a.ts': { source, mutants: [{ mutatorName: 'BlockStatement', status: 'Survived', location: { start: { line: 1, column: 8 }, end: { line: 3, column: 2 } } }] } } }));
    expect(run.survivors[0]!.original).toBe('{\n  b();\n}');
  });

  it('describes a run without errors without the error count, and scores to one decimal', () => {
    expect(describeRun({ score: 2 / 3, killed: 2, survived: 1, noCoverage: 0, timeout: 0, errors: 0, survivors: [] })).toBe('score 66.7% (2 killed, 1 survived, 0 no coverage, 0 timeout)');
    expect(formatScore(null)).toBe('n/a');
    expect(formatScore(1)).toBe('100.0%');
    expect(formatScore(0.0004)).toBe('0.0%');
  });

  it('property: the score is detected over judged, and every live mutant is listed once', () => {
    const status = fc.constantFrom('Killed', 'Survived', 'NoCoverage', 'Timeout', 'CompileError', 'RuntimeError', 'Ignored', 'Pending');
    fc.assert(
      fc.property(fc.array(status, { maxLength: 30 }), (statuses) => {
        const run = summarizeReport(
          strykerReportSchema.parse({ files: { 'a.ts': { source: 'x', mutants: statuses.map((s) => ({ mutatorName: 'M', status: s, location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } } })) } } }),
        );
        const n = (...of: string[]) => statuses.filter((s) => of.includes(s)).length;
        expect([run.killed, run.survived, run.noCoverage, run.timeout, run.errors]).toEqual([n('Killed'), n('Survived'), n('NoCoverage'), n('Timeout'), n('CompileError', 'RuntimeError')]);
        const judged = n('Killed', 'Timeout', 'Survived', 'NoCoverage');
        expect(run.score).toBe(judged === 0 ? null : n('Killed', 'Timeout') / judged);
        expect(run.survivors).toHaveLength(n('Survived', 'NoCoverage'));
      }),
    );
  });
});

describe('testOutline: every branch, exactly', () => {
  const outline = (over: Partial<LiveMutant>) => testOutline(mutant(over));

  it('each boundary pair of operators asks for equality; other swaps of a comparison ask for both sides', () => {
    for (const [from, to] of [['<', '<='], ['<=', '<'], ['>', '>='], ['>=', '>']])
      expect(outline({ original: `a ${from} b`, replacement: `a ${to} b` })).toBe(`a test where \`a\` equals \`b\`: only there do \`a ${from} b\` and \`a ${to} b\` differ; assert the outcome at that boundary`);
    for (const [from, to] of [['<', '>='], ['>', '<='], ['==', '!='], ['!=', '=='], ['!==', '==='], ['<=', '>']])
      expect(outline({ original: `a ${from} b`, replacement: `a ${to} b` })).toBe(`two tests, one where \`a ${from} b\` holds and one where it does not (\`a ${to} b\` flips it), each asserting the outcome`);
  });

  it('reads the operands of a comparison with or without spaces, over several lines, and with operators inside them', () => {
    expect(outline({ original: 'n<max', replacement: 'n<=max' })).toBe('a test where `n` equals `max`: only there do `n<max` and `n<=max` differ; assert the outcome at that boundary');
    expect(outline({ original: 'count<limit', replacement: 'count<=limit' })).toBe('a test where `count` equals `limit`: only there do `count<limit` and `count<=limit` differ; assert the outcome at that boundary');
    expect(outline({ original: 'items.length\n    >= limit', replacement: 'items.length\n    > limit' })).toBe(
      'a test where `items.length` equals `limit`: only there do `items.length >= limit` and `items.length > limit` differ; assert the outcome at that boundary',
    );
    expect(outline({ original: 'f(a, b) <  g(c)', replacement: 'f(a, b) <=  g(c)' })).toBe(
      'a test where `f(a, b)` equals `g(c)`: only there do `f(a, b) < g(c)` and `f(a, b) <= g(c)` differ; assert the outcome at that boundary',
    );
    expect(outline({ original: 'a <= b < c', replacement: 'a < b < c' })).toBe('a test where `a` equals `b < c`: only there do `a <= b < c` and `a < b < c` differ; assert the outcome at that boundary');
  });

  it('a comparison it cannot read, and conditions forced to something other than a boolean, get the general outline', () => {
    expect(outline({ original: 'isOk', replacement: '!isOk' })).toBe('a test that reaches src/a.ts:3 and asserts a result that changes when `isOk` becomes `!isOk`');
    expect(outline({ original: 'a < b', replacement: 'flag' })).toBe('a test that reaches src/a.ts:3 and asserts a result that changes when `a < b` becomes `flag`');
    expect(outline({ mutator: 'ConditionalExpression', original: 'a', replacement: '!a' })).toBe('a test that reaches src/a.ts:3 and asserts a result that changes when `a` becomes `!a`');
    expect(outline({ mutator: 'LogicalOperator', original: 'a', replacement: 'b' })).toBe('a test that reaches src/a.ts:3 and asserts a result that changes when `a` becomes `b`');
  });

  it('logical operators: which side decides, `??` on either side', () => {
    expect(outline({ mutator: 'LogicalOperator', original: 'a || b', replacement: 'a ?? b' })).toBe(
      "a test where `a` is a falsy value that is not null or undefined (0, '', false), so `a || b` and `a ?? b` differ",
    );
    expect(outline({ mutator: 'LogicalOperator', original: 'x ?? y', replacement: 'x || y' })).toBe(
      "a test where `x` is a falsy value that is not null or undefined (0, '', false), so `x ?? y` and `x || y` differ",
    );
    expect(outline({ mutator: 'LogicalOperator', original: 'p || q', replacement: 'p && q', status: 'NoCoverage' })).toBe(
      'no test reaches src/a.ts:3 yet: call it, then a test where exactly one of `p` and `q` holds, so `p || q` and `p && q` differ',
    );
  });

  it('a string of two characters is the empty string; from three on it is text', () => {
    expect(outline({ mutator: 'StringLiteral', original: "''", replacement: '"Stryker was here!"' })).toBe('assert the exact value built from the empty string at src/a.ts:3 (the mutant puts text there)');
    expect(outline({ mutator: 'StringLiteral', original: "'a'", replacement: '""' })).toBe(
      "assert the exact text that `'a'` produces at src/a.ts:3 (the whole message, not only that there is one): the mutant empties it",
    );
  });

  it('every outline names the unreached line first when no test reaches the mutant', () => {
    const kinds = ['EqualityOperator', 'ConditionalExpression', 'LogicalOperator', 'StringLiteral', 'BooleanLiteral', 'BlockStatement', 'ArrayDeclaration', 'ObjectLiteral', 'MethodExpression', 'Regex', 'ArithmeticOperator', 'OptionalChaining', 'Other'];
    for (const mutator of kinds) {
      const reached = outline({ mutator, original: 'a < b', replacement: 'true' });
      expect(outline({ mutator, original: 'a < b', replacement: 'true', status: 'NoCoverage' })).toBe(`no test reaches src/a.ts:3 yet: call it, then ${reached}`);
      expect(reached.startsWith('no test')).toBe(false);
    }
  });

  it('shortens code to 60 characters on one line: 60 stay whole, 61 end in an ellipsis', () => {
    const sixty = 'x'.repeat(60);
    expect(describeMutant(mutant({ original: sixty, replacement: `  ${sixty}\n ` }))).toBe(`src/a.ts:3:7 EqualityOperator \`${sixty}\` → \`${sixty}\` (survived)`);
    expect(describeMutant(mutant({ original: `${sixty}y`, replacement: 'a\n\t b' }))).toBe(`src/a.ts:3:7 EqualityOperator \`${'x'.repeat(59)}…\` → \`a b\` (survived)`);
  });
});
