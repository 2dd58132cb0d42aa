/**
 * Issue 17, item 6: the code graph reads code as a person does. Calls through instances are placed by the type
 * checker; imports used only as types are type-only edges; tests are the files the repo's test runner runs.
 */
import fc from 'fast-check';
import { blastRadius, dependentsOf, GraphIndex } from '../../../codegraph/analysis';
import { ingestRepo, isTestFile } from '../../../codegraph/ingest';
import { MemoryGraphStore } from '../../../codegraph/memory-store';
import { parseSource } from '../../../codegraph/parse';
import { testSelection } from '../../../codegraph/test-config';
import { TempRepo } from '../../helpers/codegraph-fixture';

const CLASSES: Record<string, string> = {
  'tsconfig.json': '{ "compilerOptions": { "strict": true, "target": "ES2020" } }\n',
  'src/store.ts': 'export class Store {\n  get(k: string): number { return k.length; }\n  put = (k: string): void => { void k; };\n}\n',
  'src/service.ts': [
    "import { Store } from './store';",
    'export class Service {',
    '  private readonly store = new Store();',
    '  read(k: string): number { return this.store.get(k); }',
    '}',
    'export function viaParameter(s: Store): number { return s.get("p"); }',
    'export function viaLocal(): number { const c = new Store(); return c.get("x"); }',
    '',
  ].join('\n'),
  'test/store.test.js': "const { Store } = require('../src/store');\nconst s = new Store();\ns.get('t');\nconst { put } = s;\nput('u');\n",
};

describe('calls through instances', () => {
  let repo: TempRepo;
  let store: MemoryGraphStore;
  beforeAll(() => {
    repo = new TempRepo();
  });
  afterAll(() => repo.remove());

  it('gives CALLS edges to the method for this.x.m(), a typed parameter and a local instance, and references from a JS test', async () => {
    const head = repo.commit(CLASSES);
    store = new MemoryGraphStore();
    const result = await ingestRepo(store, repo.dir, head);
    const index = new GraphIndex(await store.snapshot());
    const get = dependentsOf(index, 'src/store.ts#Store.get');
    expect(get.callers).toEqual(['src/service.ts#Service.read', 'src/service.ts#viaLocal', 'src/service.ts#viaParameter']);
    expect(get.referencingFiles).toEqual(['src/service.ts', 'test/store.test.js']);
    // A function-valued property is a method too, and a destructured one is still called.
    expect(dependentsOf(index, 'src/store.ts#Store.put').referencingFiles).toEqual(['test/store.test.js']);
    expect(result.semantic.resolvedCalls).toBe(5);
    expect(result.semantic.files).toBe(3);
  });

  it('the parser alone places none of them', async () => {
    const plain = new MemoryGraphStore();
    const result = await ingestRepo(plain, repo.dir, 'HEAD', { mode: 'full', semantic: false });
    const index = new GraphIndex(await plain.snapshot());
    expect(dependentsOf(index, 'src/store.ts#Store.get')).toMatchObject({ callers: [], referencingFiles: [] });
    expect(result.semantic).toMatchObject({ skipped: 'turned off', resolvedCalls: 0 });
  });

  it('an incremental ingest places the calls of the files it changed, on the kept program', async () => {
    const next = repo.commit({ 'src/other.ts': "import { Store } from './store';\nexport function more(s: Store): number { return s.get('y') + 1; }\n" });
    const result = await ingestRepo(store, repo.dir, next);
    expect(result.mode).toBe('incremental');
    const index = new GraphIndex(await store.snapshot());
    expect(dependentsOf(index, 'src/store.ts#Store.get').callers).toContain('src/other.ts#more');
    expect(dependentsOf(index, 'src/store.ts#Store.get').callers).toContain('src/service.ts#Service.read');
  });

  it('a method added incrementally gets the calls unchanged files already made to it', async () => {
    // later.js calls s.size() before Store has it (JavaScript: no compile error stops it).
    const first = repo.commit({ 'src/later.js': "import { Store } from './store';\nexport function later() { return new Store().size(); }\n" });
    await ingestRepo(store, repo.dir, first);
    expect((await store.snapshot()).symbols.map((x) => x.id)).not.toContain('src/store.ts#Store.size');
    const second = repo.commit({ 'src/store.ts': CLASSES['src/store.ts']!.replace('  put =', '  size(): number { return 0; }\n  put =') });
    const result = await ingestRepo(store, repo.dir, second);
    expect(result).toMatchObject({ mode: 'incremental', filesParsed: 2 }); // store.ts and the caller it may now have
    expect(dependentsOf(new GraphIndex(await store.snapshot()), 'src/store.ts#Store.size').callers).toEqual(['src/later.js#later']);
  });
});

describe('imports used only as types', () => {
  const imports = (file: string, text: string) => {
    const r = parseSource(file, text);
    if (!r.ok) throw new Error(r.error);
    return r.imports.map((i) => [i.specifier, i.typeOnly ?? false]);
  };

  it('an import whose bindings appear only in types, implements or typeof is type-only; a base class or a value use is not', () => {
    const text = [
      "import { Shape } from './types';",
      "import { Base, Marker } from './base';",
      "import * as ns from './ns';",
      "import { helper } from './helper';",
      "import { Widget } from './widget';",
      "import './side-effect';",
      'export interface Box { shape: Shape; kind: typeof ns.kind }',
      'export class Impl extends Base<Shape> implements Marker { run(w: Widget) { return helper(w as Widget); } }',
      '',
    ].join('\n');
    expect(imports('x.ts', text)).toEqual([
      ['./types', true],
      ['./base', false],
      ['./ns', true],
      ['./helper', false],
      ['./widget', true],
      ['./side-effect', false],
    ]);
  });

  it('JavaScript keeps every import (nothing is elided), and `export { X }` keeps X', () => {
    expect(imports('x.js', "import { A } from './a';\n")).toEqual([['./a', false]]);
    expect(imports('x.ts', "import { A } from './a';\nexport { A };\n")).toEqual([['./a', false]]);
  });

  it('ingests them as IMPORTS_TYPE', async () => {
    const repo = new TempRepo();
    try {
      const head = repo.commit({
        'src/types.ts': 'export interface Shape { area: number }\n',
        'src/logic.ts': "import { Shape } from './types';\nexport function total(s: Shape[]): number { return s.length; }\n",
      });
      const store = new MemoryGraphStore();
      await ingestRepo(store, repo.dir, head);
      const edges = (await store.snapshot()).edges.filter((e) => e.type.startsWith('IMPORTS'));
      expect(edges.map((e) => `${e.type} ${e.from} ${e.to}`)).toEqual(['IMPORTS_TYPE src/logic.ts src/types.ts']);
    } finally {
      repo.remove();
    }
  });
});

describe('tests from the repo test config', () => {
  it('a jest config that ignores a helper dir: helpers are not tests to run, and the output says where tests came from', async () => {
    const repo = new TempRepo();
    try {
      const head = repo.commit({
        'jest.config.js': "module.exports = {\n  roots: ['<rootDir>/src'],\n  testPathIgnorePatterns: ['/node_modules/', '/__tests__/helpers/'],\n};\n",
        'src/a.ts': 'export function a(): number { return 1; }\n',
        'src/__tests__/a.test.ts': "import { a } from '../a';\nimport { fixture } from './helpers/fixture';\nexpect(a()).toBe(fixture());\n",
        'src/__tests__/helpers/fixture.ts': "import { a } from '../../a';\nexport function fixture(): number { return a(); }\n",
        'test/outside-roots.test.ts': "import { a } from '../src/a';\na();\n",
      });
      const store = new MemoryGraphStore();
      const result = await ingestRepo(store, repo.dir, head);
      expect(result.testConfig).toBe('jest.config.js');
      const radius = blastRadius(new GraphIndex(await store.snapshot()), ['src/a.ts']);
      expect(radius.affectedFiles.map((f) => f.path)).toContain('src/__tests__/helpers/fixture.ts');
      expect(radius.testsToRun).toEqual(['src/__tests__/a.test.ts']);
      expect(radius.testsFrom).toBe('jest.config.js');
    } finally {
      repo.remove();
    }
  });

  it('vitest include/exclude from a defineConfig literal, and vitest defaults when only the package is installed', () => {
    const vitest = testSelection(new Map([['vitest.config.ts', "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { include: ['**/__tests__/**/*.[jt]s?(x)'], exclude: ['**/flow/**'] } });\n"]]), isTestFile);
    expect(vitest.source).toBe('vitest.config.ts');
    expect(['__tests__/base.js', '__tests__/flow/flow.js', 'src/a.test.ts', '__tests__/x.tsx'].map(vitest.isTest)).toEqual([true, false, false, true]);
    const defaults = testSelection(new Map([['package.json', '{ "devDependencies": { "vitest": "^1" } }']]), isTestFile);
    expect(defaults.source).toBe('vitest defaults (no config)');
    expect(['src/a.test.ts', 'src/b.spec.mjs', 'test/helper.ts', 'dist/a.test.js'].map(defaults.isTest)).toEqual([true, true, false, false]);
  });

  it('a config it cannot read without running it falls back to the path convention and says why', () => {
    const sel = testSelection(new Map([['jest.config.js', "const base = require('./base');\nmodule.exports = { ...base, testMatch: ['**/*.spec.js'] };\n"]]), isTestFile);
    expect(sel.fallback).toMatch(/jest\.config\.js: a spread/);
    expect(sel.source).toMatch(/^tests by path \(.*could not be read\)$/);
    const computed = testSelection(new Map([['jest.config.js', 'module.exports = { testMatch: patterns() };\n']]), isTestFile);
    expect(computed.fallback).toMatch(/"testMatch" is not a literal string list/);
    expect(testSelection(new Map(), isTestFile).source).toBe('tests by path (no jest or vitest config)');
    const projects = testSelection(new Map([['jest.config.json', '{ "projects": ["a", "b"] }']]), isTestFile);
    expect(projects.fallback).toMatch(/"projects" \(several jest projects\) is not read/);
  });

  it('jest rootDir moves <rootDir> and the default roots', () => {
    const sel = testSelection(new Map([['jest.config.ts', "import type { Config } from 'jest';\nconst config: Config = { rootDir: 'packages/core', testPathIgnorePatterns: ['<rootDir>/fixtures/'] };\nexport default config;\n"]]), isTestFile);
    expect(sel.source).toBe('jest.config.ts');
    expect(['packages/core/a.test.ts', 'packages/core/fixtures/b.test.ts', 'other/c.test.ts', 'packages/core/__tests__/d.ts'].map(sel.isTest)).toEqual([true, false, false, true]);
  });

  const segment = fc.constantFrom('src', 'lib', '__tests__', 'helpers', 'test', 'node_modules', 'a', 'b.test', 'c');
  const file = fc.tuple(fc.array(segment, { maxLength: 4 }), fc.constantFrom('x.ts', 'x.test.ts', 'y.spec.js', 'z.js', 'w.test.tsx')).map(([dirs, name]) => [...dirs, name].join('/'));

  it('property: jest never selects an ignored path, and selects exactly testMatch ∖ ignored under the roots', () => {
    const sel = testSelection(new Map([['package.json', JSON.stringify({ jest: { roots: ['<rootDir>/src', '<rootDir>/lib'], testMatch: ['**/*.test.[jt]s?(x)'], testPathIgnorePatterns: ['/helpers/'] } })]]), isTestFile);
    fc.assert(
      fc.property(file, (p) => {
        const expected = (p.startsWith('src/') || p.startsWith('lib/')) && /\.test\.[jt]sx?$/.test(p) && !p.includes('/helpers/');
        expect(sel.isTest(p)).toBe(expected);
      }),
    );
  });

  it('property: an unreadable config selects exactly what the path convention does', () => {
    const sel = testSelection(new Map([['vitest.config.ts', 'export default makeConfig();\n']]), isTestFile);
    expect(sel.fallback).toBeDefined();
    fc.assert(fc.property(file, (p) => expect(sel.isTest(p)).toBe(isTestFile(p))));
  });
});
