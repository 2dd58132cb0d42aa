import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isCodeText, readLineCoverage, V8_COVERAGE_ENV } from '../../../evals/coverage';
import { runCommand, scrubbedEnv } from '../../../evals/test-runner';
import { TSX_CLI } from '../../../io/paths';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-coverage-')));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

const TS_LIB = [
  '/** A unit with a tested and an untested branch. */', // 1
  'export interface Shape {', // 2
  '  sides: number;', // 3
  '}', // 4
  '', // 5
  'export function describe(shape: Shape): string {', // 6
  '  if (shape.sides === 0) {', // 7
  "    return 'circle';", // 8
  '  }', // 9
  '  return `${shape.sides} sides`;', // 10
  '}', // 11
].join('\n');

describe('readLineCoverage', () => {
  it('maps V8 coverage of a tsx-run test back to TypeScript lines, across processes, leaving out lines with no code', async () => {
    const dir = path.join(tmp, 'ts');
    await fs.mkdir(path.join(dir, 'test'), { recursive: true });
    await fs.writeFile(path.join(dir, 'lib.ts'), TS_LIB);
    await fs.writeFile(path.join(dir, 'unused.ts'), 'export const x = 1;\n');
    const test = "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { describe } from '../lib';\ntest('t', () => assert.equal(describe({ sides: 3 }), '3 sides'));\n";
    await fs.writeFile(path.join(dir, 'test/a.test.ts'), test);
    await fs.writeFile(path.join(dir, 'test/b.test.ts'), test);
    const coverageDir = path.join(tmp, 'ts-coverage');
    const run = await runCommand([process.execPath, TSX_CLI, '--test', 'test/a.test.ts', 'test/b.test.ts'], dir, 60_000, { ...scrubbedEnv(), [V8_COVERAGE_ENV]: coverageDir });
    expect(run.exitCode).toBe(0);
    const coverage = await readLineCoverage(coverageDir, dir, ['lib.ts', 'unused.ts']);
    // unused.ts was never loaded; lib.ts by two test processes, merged.
    expect([...coverage.keys()]).toEqual(['lib.ts']);
    const lines = coverage.get('lib.ts')!;
    for (const noCode of [1, 2, 3, 5]) expect(lines.has(noCode)).toBe(false);
    expect(lines.get(8)).toBe(0);
    expect(lines.get(10)).toBe(2);
    expect(lines.get(7)).toBeGreaterThanOrEqual(2);
  });

  it('reads plain JavaScript without a source map', async () => {
    const dir = path.join(tmp, 'js');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'lib.js'), "// plain\nexports.f = (x) => {\n  if (x) {\n    return 'yes';\n  }\n  return 'no';\n};\n");
    await fs.writeFile(path.join(dir, 'main.js'), "require('./lib').f(false);\n");
    const coverageDir = path.join(tmp, 'js-coverage');
    await runCommand([process.execPath, 'main.js'], dir, 30_000, { ...scrubbedEnv(), [V8_COVERAGE_ENV]: coverageDir });
    const lines = (await readLineCoverage(coverageDir, dir, ['lib.js'])).get('lib.js')!;
    expect(lines.has(1)).toBe(false);
    expect(lines.get(4)).toBe(0);
    expect(lines.get(6)).toBe(1);
  });

  it('a coverage directory that does not exist means nothing was loaded', async () => {
    expect((await readLineCoverage(path.join(tmp, 'none'), tmp, ['lib.ts'])).size).toBe(0);
  });
});

describe('isCodeText', () => {
  it('blank and comment-only lines are not code', () => {
    expect(['', '   ', '// x', '/* x */', ' * x', '/** doc */'].map(isCodeText)).toEqual([false, false, false, false, false, false]);
    expect(['return 1;', '}', 'x; // note'].map(isCodeText)).toEqual([true, true, true]);
  });
});
