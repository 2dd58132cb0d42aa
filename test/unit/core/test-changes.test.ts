import fc from 'fast-check';
import { analyzeTestChanges, identifierRenames, parseUnifiedDiff, TEST_CHANGE_KINDS, type TestChangeInput } from '../../../core/test-changes';
import { decide } from '../../../core/policy';
import { defaultPolicy, policyFrom, defaultPolicyConfig } from '../../../core/policy-rules';
import type { EvalReport } from '../../../core/stages';
import { computeRisk, TEST_WEAKENING_WEIGHT } from '../../../core/risk';

/** A one-file unified diff from whole-file texts (every line replaced: enough for the analyser's line pairing). */
function diffOf(file: string, before: string | undefined, after: string | undefined): string {
  const a = before === undefined ? [] : before.split('\n');
  const b = after === undefined ? [] : after.split('\n');
  const head = [`diff --git a/${file} b/${file}`];
  if (before === undefined) head.push('new file mode 100644');
  if (after === undefined) head.push('deleted file mode 100644');
  head.push(`--- ${before === undefined ? '/dev/null' : `a/${file}`}`, `+++ ${after === undefined ? '/dev/null' : `b/${file}`}`);
  // Common prefix and suffix stay context, the middle is replaced: how git shows a local edit.
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const body = [...a.slice(0, p).map((l) => ` ${l}`), ...a.slice(p, a.length - s).map((l) => `-${l}`), ...b.slice(p, b.length - s).map((l) => `+${l}`), ...a.slice(a.length - s).map((l) => ` ${l}`)];
  return [...head, `@@ -1,${a.length} +1,${b.length} @@`, ...body, ''].join('\n');
}

const BASE_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greet, MAX } from '../src/greeting';

test('greets by name', () => {
  assert.deepStrictEqual(greet('Ada'), { ok: true, message: 'Hello, Ada!' });
});

test('rejects long names', () => {
  assert.strictEqual(greet('a'.repeat(MAX + 1)).ok, false);
});
`;
const BASE_SRC = `export const MAX = 64;
export function greet(name: string) {
  if (name.length > MAX) return { ok: false as const };
  return { ok: true as const, message: \`Hello, \${name}!\` };
}
`;

function analyse(files: Record<string, { base?: string; candidate?: string }>, intent?: string) {
  const input: TestChangeInput = {
    diff: Object.entries(files).map(([f, t]) => diffOf(f, t.base, t.candidate)).join(''),
    files,
    baseTestFiles: { 'test/greeting.test.ts': BASE_TEST },
    intent,
  };
  return analyzeTestChanges(input);
}
const kinds = (a: ReturnType<typeof analyse>) => a.findings.map((f) => f.kind);
const editTest = (fn: (t: string) => string, intent?: string) => analyse({ 'test/greeting.test.ts': { base: BASE_TEST, candidate: fn(BASE_TEST) } }, intent);

describe('analyzeTestChanges: each gaming move, with file and line', () => {
  it('a deleted test file and a deleted test case', () => {
    expect(analyse({ 'test/greeting.test.ts': { base: BASE_TEST } }).findings).toEqual([
      { kind: 'test-file-deleted', file: 'test/greeting.test.ts', line: 1, detail: "deletes 2 test(s): 'greets by name', 'rejects long names'" },
    ]);
    const a = editTest((t) => t.replace(/\ntest\('rejects long names'[\s\S]*$/, '\n'));
    expect(a.findings[0]).toMatchObject({ kind: 'test-case-deleted', file: 'test/greeting.test.ts', line: 9 });
  });

  it('weakened, removed and changed assertions', () => {
    expect(editTest((t) => t.replace("assert.strictEqual(greet('a'.repeat(MAX + 1)).ok, false);", "assert.ok(greet('a'.repeat(MAX + 1)));")).findings).toEqual([
      expect.objectContaining({ kind: 'assertion-weakened', line: 10, detail: expect.stringMatching(/^strictEqual → ok in 'rejects long names'/) }),
    ]);
    expect(kinds(editTest((t) => t.replace("import assert from 'node:assert/strict';", "import assert from 'node:assert';")))).toEqual(['assertion-weakened']);
    expect(kinds(editTest((t) => t.replace("  assert.strictEqual(greet('a'.repeat(MAX + 1)).ok, false);\n", '')))).toEqual(['assertion-removed']);
    expect(kinds(editTest((t) => t.replace('.ok, false);', '.ok, true);')))).toEqual(['expectation-changed']);
  });

  it('an expectation update the intent documents is evidence, and its test an intended base failure', () => {
    const a = editTest((t) => t.replace("'Hello, Ada!'", "'Welcome, Ada!'"), "Greet with 'Welcome, <name>!'");
    expect(a.findings).toEqual([]);
    expect(a.evidence).toEqual([expect.objectContaining({ kind: 'expectation-updated', test: 'greets by name', line: 6 })]);
    expect(a.intendedTests).toEqual(['greets by name']);
    expect(a.modifiedTests).toEqual([{ file: 'test/greeting.test.ts', test: 'greets by name' }]);
  });

  it('skips, only and todo', () => {
    for (const edit of ["test.skip('rejects long names'", "test.only('rejects long names'", "test('rejects long names', { skip: true }, "])
      expect(kinds(editTest((t) => t.replace("test('rejects long names', ", edit.endsWith(', ') ? edit : `${edit}, `)))).toContain('test-skipped');
  });

  it('tests excluded by the runner configuration', () => {
    const before = JSON.stringify({ entry: 'src/server.ts', test: ['{node}', '--test', 'test/a.test.ts', 'test/b.test.ts'] }, null, 2);
    const after = JSON.stringify({ entry: 'src/server.ts', test: ['{node}', '--test', 'test/b.test.ts'] }, null, 2);
    expect(analyse({ 'maestro.service.json': { base: before, candidate: after } }).findings).toEqual([
      expect.objectContaining({ kind: 'tests-excluded', file: 'maestro.service.json', detail: "the test command no longer has 'test/a.test.ts'" }),
    ]);
    // Narrowed without losing an argument: from discovering every test file to naming one, or a name filter.
    const discover = JSON.stringify({ entry: 'server.js', test: ['{node}', '--test'] }, null, 2);
    for (const [added, detail] of [
      [['test/server.test.js'], "the test command now narrows the tests it runs with 'test/server.test.js'"],
      [['--test-name-pattern', 'OWS'], "the test command now narrows the tests it runs with '--test-name-pattern'"],
    ] as const)
      expect(analyse({ 'maestro.service.json': { base: discover, candidate: JSON.stringify({ entry: 'server.js', test: ['{node}', '--test', ...added] }, null, 2) } }).findings).toEqual([
        expect.objectContaining({ kind: 'tests-excluded', file: 'maestro.service.json', detail }),
      ]);
    // A test file added to a command that already names its files runs more tests, not fewer.
    const more = JSON.stringify({ entry: 'src/server.ts', test: ['{node}', '--test', 'test/a.test.ts', 'test/b.test.ts', 'test/c.test.ts'] }, null, 2);
    expect(analyse({ 'maestro.service.json': { base: before, candidate: more } }).findings).toEqual([]);
    const jest = 'module.exports = {\n  testEnvironment: "node",\n};\n';
    expect(kinds(analyse({ 'jest.config.js': { base: jest, candidate: jest.replace('};', '  testPathIgnorePatterns: ["greeting"],\n};') } }))).toEqual(['tests-excluded']);
  });

  it('special-cased inputs, swallowed errors and overloaded comparisons in the unit under test', () => {
    const src = (fn: (t: string) => string) => analyse({ 'src/greeting.ts': { base: BASE_SRC, candidate: fn(BASE_SRC) } });
    expect(src((t) => t.replace('if (name.length > MAX)', "if (name === 'Bob')")).findings).toEqual([]);
    expect(src((t) => t.replace('if (name.length > MAX)', "if (name === 'Ada')")).findings).toEqual([
      expect.objectContaining({ kind: 'special-cased-input', file: 'src/greeting.ts', line: 3, detail: expect.stringMatching(/^source now mentions "Ada", an input of test\/greeting\.test\.ts/) }),
    ]);
    expect(src((t) => t.replace('  if (name.length > MAX) return { ok: false as const };\n', '  try {\n    check(name);\n  } catch {}\n')).findings[0]).toMatchObject({ kind: 'error-swallowed', line: 5 });
    expect(kinds(src((t) => t.replace('{ ok: false as const }', '{ ok: { valueOf: () => false } }')))).toEqual(['comparison-overloaded']);
  });

  it('lowered thresholds and rewritten snapshots', () => {
    expect(kinds(analyse({ 'jest.config.js': { base: 'coverageThreshold: { global: { lines: 90 } }\n', candidate: 'coverageThreshold: { global: { lines: 50 } }\n' } }))).toEqual(['threshold-lowered']);
    expect(kinds(analyse({ 'test/__snapshots__/a.test.ts.snap': { base: 'exports[`a`] = `1`;\n', candidate: 'exports[`a`] = `2`;\n' } }))).toEqual(['snapshot-rewritten']);
  });

  it('legitimate: a renamed test, a helper refactor and a source rename are not findings', () => {
    const renamed = editTest((t) => t.replace("test('rejects long names'", "test('rejects names over the limit'"));
    expect(renamed.findings).toEqual([]);
    expect(renamed.evidence).toEqual([expect.objectContaining({ kind: 'test-renamed', test: 'rejects long names' })]);
    const helper = editTest((t) => t.replace("assert.strictEqual(greet('a'.repeat(MAX + 1)).ok, false);", "assertRejected('a'.repeat(MAX + 1));") + '\nfunction assertRejected(raw: string) {\n  assert.strictEqual(greet(raw).ok, false);\n}\n');
    expect(helper.findings).toEqual([]);
    const rename = (t: string) => t.replace(/\bgreet\b/g, 'composeGreeting');
    const codemod = analyse({ 'src/greeting.ts': { base: BASE_SRC, candidate: rename(BASE_SRC) }, 'test/greeting.test.ts': { base: BASE_TEST, candidate: rename(BASE_TEST) } });
    expect(codemod.findings).toEqual([]);
    expect(codemod.renamedOnly).toEqual(['test/greeting.test.ts']);
  });
});

describe('analyzeTestChanges on node:test files whose tests share a name (as upstream fastify/forwarded)', () => {
  const SHARED = `'use strict'
const test = require('node:test')
const forwarded = require('..')

test('should include entries', function (t) {
  t.plan(1)
  t.assert.deepStrictEqual(forwarded(req('10.0.0.2, 10.0.0.1')), ['127.0.0.1', '10.0.0.1', '10.0.0.2'])
})

test('should include entries', function (t) {
  t.plan(1)
  t.assert.deepStrictEqual(forwarded(req('   ')), ['127.0.0.1'])
})
`;
  const edit = (fn: (t: string) => string, intent?: string) => analyzeTestChanges({ diff: diffOf('test/test.js', SHARED, fn(SHARED)), files: { 'test/test.js': { base: SHARED, candidate: fn(SHARED) } }, baseTestFiles: { 'test/test.js': SHARED }, intent });
  const blank = "test('should include entries', function (t) {\n  t.plan(1)\n  t.assert.deepStrictEqual(forwarded(req('   ')), ['127.0.0.1'])\n})\n";

  it('deleting one of two tests with the same name is a deleted test; the plan call is no assertion', () => {
    const a = edit((t) => t.replace(`\n${blank}`, ''));
    expect(a.findings.map((f) => [f.kind, f.line, f.detail])).toEqual([
      ['test-case-deleted', 10, "test 'should include entries' removed"],
      ['assertion-removed', 12, "assertion removed: t.assert.deepStrictEqual(forwarded(req(' ')), ['127.0.0.1'])"],
    ]);
  });

  it('giving one of them a name of its own is a rename', () => {
    const a = edit((t) => t.replace(blank, blank.replace('should include entries', 'should ignore a blank header')));
    expect(a.findings).toEqual([]);
    expect(a.evidence).toEqual([expect.objectContaining({ kind: 'test-renamed', test: 'should include entries', line: 10 })]);
  });

  it('the same checks through node:assert instead of t.assert are no finding; a changed expected value still is', () => {
    const viaModule = (t: string) => t.replace("const test = require('node:test')", "const assert = require('node:assert')\nconst test = require('node:test')").split('  t.plan(1)\n').join('').split('t.assert.').join('assert.');
    expect(edit(viaModule).findings).toEqual([]);
    expect(edit((t) => viaModule(t).replace("['127.0.0.1'])", "['127.0.0.1', ''])")).findings.map((f) => f.kind)).toEqual(['expectation-changed']);
  });
});

describe('analyzeTestChanges properties', () => {
  const line = fc.stringMatching(/^[a-z0-9 ();.,'=]{0,30}$/);
  const text = fc.array(line, { minLength: 1, maxLength: 8 }).map((ls) => ls.join('\n'));

  it('an unchanged file yields nothing, and parsing is total on any diff text', () => {
    fc.assert(
      fc.property(text, fc.string(), (t, junk) => {
        const same = analyzeTestChanges({ diff: '', files: { 'test/x.test.ts': { base: t, candidate: t } }, baseTestFiles: { 'test/x.test.ts': t } });
        expect(same.findings).toEqual([]);
        expect(() => parseUnifiedDiff(junk)).not.toThrow();
        expect(() => analyzeTestChanges({ diff: junk, files: {}, baseTestFiles: {} })).not.toThrow();
      }),
    );
  });

  it('every finding has a known kind, a touched file and a line ≥ 1', () => {
    fc.assert(
      fc.property(text, text, fc.constantFrom('test/x.test.ts', 'src/x.ts', 'jest.config.js'), (before, after, file) => {
        const a = analyzeTestChanges({ diff: diffOf(file, before, after), files: { [file]: { base: before, candidate: after } }, baseTestFiles: { 'test/y.test.ts': before } });
        for (const f of a.findings) {
          expect(TEST_CHANGE_KINDS).toContain(f.kind);
          expect(f.file).toBe(file);
          expect(f.line).toBeGreaterThanOrEqual(1);
          expect(f.detail).not.toBe('');
        }
      }),
    );
  });

  it('deleting any test case of a test file is always a finding (never silently passes)', () => {
    // Names may repeat: a test deleted next to a namesake is still deleted.
    const name = fc.oneof(fc.stringMatching(/^[a-z][a-z ]{2,20}$/), fc.constant('shared name'));
    fc.assert(
      fc.property(fc.array(name, { minLength: 2, maxLength: 5 }), fc.nat(), (names, pick) => {
        const body = (n: string, i: number) => `test('${n}', () => {\n  assert.equal(f(${i}), ${i});\n});\n`;
        const before = names.map(body).join('\n');
        const gone = pick % names.length;
        const after = names.map((n, i) => (i === gone ? '' : body(n, i))).join('\n');
        const a = analyzeTestChanges({ diff: diffOf('test/p.test.ts', before, after), files: { 'test/p.test.ts': { base: before, candidate: after } }, baseTestFiles: { 'test/p.test.ts': before } });
        expect(a.findings.map((f) => f.kind)).toContain('test-case-deleted');
      }),
    );
  });

  it('identifier renames are one-to-one and invertible', () => {
    const ident = fc.stringMatching(/^[a-z][a-zA-Z]{2,8}$/).filter((s) => !['assert', 'expect', 'test', 'skip', 'only', 'todo', 'mock', 'ok', 'equal'].includes(s));
    fc.assert(
      fc.property(fc.uniqueArray(ident, { minLength: 2, maxLength: 4 }), ident, (ids, fresh) => {
        fc.pre(!ids.includes(fresh));
        const before = ids.map((id) => `const ${id} = ${id}.call(${ids[0]});`).join('\n');
        const after = before.split(ids[1]).join(fresh);
        fc.pre(!after.includes(`${fresh}${fresh}`));
        const renames = identifierRenames(before, after);
        if (renames && renames.size) {
          expect([...renames.values()]).toEqual([...new Set(renames.values())]);
          const back = identifierRenames(after, before)!;
          for (const [from, to] of renames) expect(back.get(to)).toBe(from);
        }
        expect(identifierRenames(before, before)?.size).toBe(0);
      }),
    );
  });
});

describe('tests-weakened policy rule', () => {
  const evals = (testChanges?: EvalReport['testChanges']): EvalReport => ({ score: 1, passed: true, threshold: 0.85, checks: [], durationMs: 1, ...(testChanges ? { testChanges } : {}) });
  const input = (e: EvalReport, approvals?: { by: string }[]) => ({
    changeRequest: { id: 'c', protectedPaths: [] },
    candidate: { sha: 'abc', changedFiles: ['test/a.test.ts'] },
    risk: { score: 0, factors: [] },
    evals: e,
    approvals,
  });
  const finding = { kind: 'test-skipped' as const, file: 'test/a.test.ts', line: 4, detail: "adds skip: test.skip('x'" };

  it('denies by default with reason, evidence (file:line) and fix; silent without findings or for old reports', () => {
    const d = decide(input(evals([finding])), defaultPolicy().rules);
    expect(d.outcome).toBe('deny');
    const denial = d.outcome === 'deny' ? d.denials.find((x) => x.rule === 'tests-weakened')! : undefined;
    expect(denial?.reason).toBe('the change weakens the tests that judge it (test-skipped) in test/a.test.ts');
    expect(denial?.evidence).toBe("test/a.test.ts:4: test-skipped: adds skip: test.skip('x'");
    expect(denial?.fix).toMatch(/^remove the skip\/only\/todo and make the test pass; then push a new candidate\.$/);
    expect(decide(input(evals([])), defaultPolicy().rules).outcome).toBe('allow');
    expect(decide(input(evals()), defaultPolicy().rules).outcome).toBe('allow');
  });

  it('holds for an approver when configured so, and ignores configured kinds', () => {
    const rules = defaultPolicyConfig.rules.filter((r) => (r as { id: string }).id !== 'tests-weakened');
    const held = policyFrom({ ...defaultPolicyConfig, roles: { owner: ['olivia'], 'release-manager': ['*'], developer: ['*'] }, rules: [...rules, { id: 'tests-weakened', params: { action: 'require-approval' } }] });
    const d = decide(input(evals([finding])), held.rules);
    expect(d.outcome === 'deny' && d.denials[0].reason).toMatch(/and no owner has approved it$/);
    expect(decide(input(evals([finding]), [{ by: 'olivia' }]), held.rules).outcome).toBe('allow');
    const lenient = policyFrom({ ...defaultPolicyConfig, rules: [...rules, { id: 'tests-weakened', params: { ignoreKinds: ['test-skipped'] } }] });
    expect(decide(input(evals([finding])), lenient.rules).outcome).toBe('allow');
  });
});

describe('risk: the test-weakening factor', () => {
  const inputs = { changedFiles: ['src/a.ts'], insertions: 1, deletions: 1, graph: { source: 'g', totalFiles: 2, files: {}, symbols: {} }, protectedTouched: [] };
  it('is absent without findings, and adds at most TEST_WEAKENING_WEIGHT, monotonically', () => {
    const plain = computeRisk(inputs);
    expect(plain.factors.map((f) => f.name)).not.toContain('test weakening');
    expect(computeRisk({ ...inputs, testWeakening: [] })).toEqual(plain);
    fc.assert(
      fc.property(fc.nat({ max: 20 }), fc.nat({ max: 20 }), (a, b) => {
        const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
        const at = (n: number) => computeRisk({ ...inputs, testWeakening: Array.from({ length: n }, (_, i) => `test/a.test.ts:${i + 1} test-skipped`) }).score;
        expect(at(hi)).toBeGreaterThanOrEqual(at(lo));
        expect(at(hi) - plain.score).toBeLessThanOrEqual(TEST_WEAKENING_WEIGHT + 1e-6);
      }),
      { numRuns: 50 },
    );
  });
});
