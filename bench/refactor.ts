/**
 * RefactorSurgeon bench.
 *  A. Large-scale refactors on a real TypeScript codebase that is not ours: zod v3's sources and its own
 *     test suite (node_modules/zod/src/v3, zod@3.25.76 as pinned by package-lock.json), copied under
 *     .maestro/bench/zod-v3. Before and after each refactor: `tsc --noEmit` and zod's tests
 *     (vitest API run through a small shim on jest's `expect`). Each refactor must touch ≥ 20 files.
 *  B. Codemod time on a generated project of ≥ 1,000 files, the ts-morph project loaded once and reused.
 * Run: npx tsx bench/refactor.ts [--only=a|b] [--files=1200]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { STATE } from '../io/paths';
import { parseCodemod, RefactorWorkspace } from '../refactor';

const ROOT = path.join(__dirname, '..');
const WORK = STATE.bench;
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));

const VITEST_SHIM = `/* vitest's API on jest's expect, enough for zod's tests */
import { expect as jestExpect } from 'expect';
type Fn = () => unknown;
export const tests: { name: string; fn: Fn }[] = [];
const prefix: string[] = [];
export function test(name: string, fn?: Fn): void { if (fn) tests.push({ name: [...prefix, name].join(' > '), fn }); }
test.skip = (_name: string, _fn?: Fn) => undefined;
test.todo = (_name: string) => undefined;
test.each = (rows: unknown[]) => (name: string, fn: (...a: any[]) => unknown) => rows.forEach((row, i) => test(name + ' #' + i, () => fn(...(Array.isArray(row) ? row : [row]))));
export const it = test;
export function describe(name: string, fn: () => void): void { prefix.push(name); fn(); prefix.pop(); }
export const expect: any = jestExpect;
const anyProxy: any = new Proxy(function () {}, { get: () => anyProxy, apply: () => anyProxy });
export const expectTypeOf: any = () => anyProxy;
export const assertType = (_v: unknown) => undefined;
export const vi: any = { fn: () => { const calls: unknown[][] = []; const f: any = (...a: unknown[]) => { calls.push(a); }; f.mock = { calls }; return f; } };
export function beforeEach(_fn: Fn) {}
export function afterEach(_fn: Fn) {}
`;

const RUNNER = `const Module = require('module');
const path = require('path');
const fs = require('fs');
const out = process.argv[2];
const original = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'zod/v3') request = path.join(out, 'src/index.js');
  else if (request === 'vitest') request = path.join(out, 'vitest-shim.js');
  return original.call(this, request, ...rest);
};
const { tests } = require(path.join(out, 'vitest-shim.js'));
const files = fs.readdirSync(path.join(out, 'src/tests')).filter((f) => f.endsWith('.test.js'));
for (const f of files) require(path.join(out, 'src/tests', f));
(async () => {
  let failed = 0;
  for (const t of tests) {
    try { await t.fn(); } catch (e) { failed++; if (failed <= 5) console.error('FAIL', t.name, String(e).slice(0, 300)); }
  }
  console.log(JSON.stringify({ files: files.length, tests: tests.length, failed }));
  process.exit(failed ? 1 : 0);
})();
`;

function prepareZod(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const source = path.join(ROOT, 'node_modules', 'zod', 'src', 'v3');
  cpSync(source, path.join(dir, 'src'), {
    recursive: true,
    // Left out: the benchmarks (need the benchmark package) and the language-server test (needs ts-morph at test time).
    filter: (p) => !/(?:benchmarks|language-server)/.test(p),
  });
  writeFileSync(path.join(dir, 'vitest-shim.ts'), VITEST_SHIM);
  writeFileSync(path.join(dir, 'run-tests.js'), RUNNER);
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2020', module: 'commonjs', moduleResolution: 'node', strict: true, skipLibCheck: true, esModuleInterop: true,
          outDir: 'out', rootDir: '.', types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')], baseUrl: '.',
          paths: { 'zod/v3': ['./src/index.ts'], vitest: ['./vitest-shim.ts'], expect: [path.join(ROOT, 'node_modules/expect/build/index.d.ts')], '@standard-schema/spec': [path.join(ROOT, 'node_modules/@standard-schema/spec/dist/index.d.ts')] },
        },
        include: ['src', 'vitest-shim.ts'],
      },
      null,
      2,
    ),
  );
  execFileSync('git', ['init', '-q'], { cwd: dir });
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'add', '-A'], { cwd: dir });
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', '-c', 'commit.gpgsign=false', 'commit', '-qm', 'zod v3 as shipped'], { cwd: dir });
}

/** tsc (type-check + emit) then zod's own tests; returns the figures or throws with the output. */
function checkZod(dir: string): { typeErrors: number; tests: number; failed: number; ms: number } {
  const started = performance.now();
  rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  let typeErrors = 0;
  try {
    execFileSync(TSC, ['-p', 'tsconfig.json', '--noEmitOnError', 'false'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') } });
  } catch (e) {
    const out = String((e as { stdout?: string }).stdout ?? '');
    typeErrors = (out.match(/error TS/g) ?? []).length;
    console.error(out.split('\n').slice(0, 10).join('\n'));
  }
  let result = { tests: 0, failed: -1 };
  try {
    const out = execFileSync('node', ['run-tests.js', path.join(dir, 'out')], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') } });
    result = JSON.parse(out.trim().split('\n').pop()!);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    console.error(String(err.stderr ?? '').slice(0, 2000));
    result = JSON.parse(String(err.stdout ?? '{"tests":0,"failed":-1}').trim().split('\n').pop() || '{"tests":0,"failed":-1}');
  }
  return { typeErrors, ...result, ms: Math.round(performance.now() - started) };
}

export const ZOD_REFACTORS = [
  { codemod: 'rename-method', class: 'ZodType', from: 'safeParse', to: 'safeValidate', scope: 'src', publicApi: 'change' },
  { codemod: 'move-file', from: 'src/helpers/util.ts', to: 'src/helpers/utilities.ts' },
  { codemod: 'rename-function', from: 'assertEqual', to: 'assertTypesEqual', scope: 'src/helpers' },
];

async function benchZod(): Promise<void> {
  const dir = path.join(WORK, 'zod-v3');
  prepareZod(dir);
  const files = readdirSync(path.join(dir, 'src'), { recursive: true }).filter((f) => String(f).endsWith('.ts')).length;
  const baseline = checkZod(dir);
  console.log(`A. zod v3 (${files} .ts files): baseline type errors ${baseline.typeErrors}, tests ${baseline.tests} (failed ${baseline.failed}: toMatchInlineSnapshot is not in the vitest shim) in ${baseline.ms} ms`);
  let started = performance.now();
  const ws = RefactorWorkspace.open(dir);
  console.log(`   project loaded in ${Math.round(performance.now() - started)} ms`);
  for (const codemod of ZOD_REFACTORS) {
    started = performance.now();
    const result = await ws.apply(parseCodemod(codemod), { typecheck: true });
    const check = checkZod(dir);
    const ok = check.typeErrors <= baseline.typeErrors && check.failed >= 0 && check.failed <= baseline.failed && check.tests === baseline.tests;
    console.log(
      `   ${codemod.codemod} ${'from' in codemod ? codemod.from : ''} → ${codemod.to}: ${result.changedFiles.length} files changed in ${Math.round(result.durationMs)} ms (incl. type-check); ` +
        `after: type errors ${check.typeErrors}, tests ${check.tests} failed ${check.failed} — ${ok ? 'no regression' : 'REGRESSION'}`,
    );
    if (!ok) process.exitCode = 1;
  }
}

function generateCorpus(dir: string, n: number): void {
  rmSync(dir, { recursive: true, force: true });
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  write('tsconfig.json', JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, types: [] }, include: ['src'] }));
  write('src/core/format.ts', 'export function formatAmount(value: number): string {\n  return value.toFixed(2);\n}\n\nexport class Ledger {\n  private entries: number[] = [];\n  record(value: number): void {\n    this.entries.push(value);\n  }\n  balance(): number {\n    return this.entries.reduce((a, b) => a + b, 0);\n  }\n}\n');
  for (let i = 0; i < n; i++) {
    const dep = i > 0 ? `import { service${i - 1} } from '../m${Math.floor((i - 1) / 50)}/service${i - 1}';\n` : '';
    write(
      `src/m${Math.floor(i / 50)}/service${i}.ts`,
      `import { formatAmount, Ledger } from '../core/format';\n${dep}\nexport function service${i}(amount: number): string {\n  const ledger = new Ledger();\n  ledger.record(amount);\n  ledger.record(${i});\n  ${i > 0 ? `service${i - 1}(amount);\n  ` : ''}return formatAmount(ledger.balance());\n}\n`,
    );
  }
}

async function benchLarge(n: number): Promise<void> {
  const dir = path.join(WORK, `generated-${n}`);
  generateCorpus(dir, n);
  let started = performance.now();
  let ws = RefactorWorkspace.open(dir);
  const loadMs = performance.now() - started;
  console.log(`B. generated project: ${ws.project.getSourceFiles().length} files, loaded once in ${Math.round(loadMs)} ms`);
  const codemods = [
    { codemod: 'rename-function', from: 'formatAmount', to: 'formatMoney', scope: 'src/core' },
    { codemod: 'rename-method', class: 'Ledger', from: 'record', to: 'append', scope: 'src/core' },
    { codemod: 'replace-call', from: 'ledger.append($v)', to: "ledger['append']($v)", scope: 'src' },
    { codemod: 'add-parameter', function: 'formatMoney', file: 'src/core/format.ts', parameter: { name: 'digits', type: 'number', default: '2' } },
    { codemod: 'move-file', from: 'src/core/format.ts', to: 'src/shared/money.ts' },
    { codemod: 'rename-class', from: 'Ledger', to: 'Book', scope: 'src/shared' },
  ];
  for (const typecheck of [false, true]) {
    for (const codemod of codemods) {
      started = performance.now();
      const result = await ws.apply(parseCodemod(codemod), { typecheck, dryRun: true });
      console.log(`   ${typecheck ? '[+type-check] ' : ''}${codemod.codemod} ${codemod.codemod === 'add-parameter' ? 'formatMoney' : (codemod as { from: string }).from}: ${result.changedFiles.length} files in ${Math.round(performance.now() - started)} ms (dry run, then applied for the next)`);
      await ws.apply(parseCodemod(codemod), { typecheck: false });
    }
    if (!typecheck) {
      // Back to the generated state for the type-checked round (a fresh load: files were moved on disk).
      generateCorpus(dir, n);
      ws = RefactorWorkspace.open(dir);
    }
  }
  const tsc = performance.now();
  try {
    execFileSync(TSC, ['--noEmit', '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    console.log(`   final tsc --noEmit: clean (${Math.round(performance.now() - tsc)} ms)`);
  } catch (e) {
    console.log(`   final tsc --noEmit: ERRORS\n${String((e as { stdout?: string }).stdout).slice(0, 1000)}`);
    process.exitCode = 1;
  }
}

(async () => {
  const only = args.get('only');
  if (!existsSync(WORK)) mkdirSync(WORK, { recursive: true });
  if (only !== 'b') await benchZod();
  if (only !== 'a') await benchLarge(Number(args.get('files') ?? 1200));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
