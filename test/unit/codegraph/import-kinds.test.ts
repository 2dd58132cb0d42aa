/**
 * Issue 17: type-only imports are their own edge kind. Centrality ranks files by value imports (what runs), so a
 * types file imported everywhere with `import type` no longer outranks the file holding the logic; blast radius
 * still follows type-only importers (a type change breaks their compile).
 */
import { blastRadius, computeCentrality, GraphIndex, hotPaths } from '../../../codegraph/analysis';
import { ingestRepo } from '../../../codegraph/ingest';
import { MemoryGraphStore } from '../../../codegraph/memory-store';
import { parseSource } from '../../../codegraph/parse';
import { TempRepo } from '../../helpers/codegraph-fixture';

const FILES: Record<string, string> = {
  'src/types.ts': 'export interface Shape { area: number }\nexport type Id = string;\n',
  'src/logic.ts': "import type { Shape } from './types';\nexport function total(shapes: Shape[]): number { return shapes.reduce((n, s) => n + s.area, 0); }\n",
  ...Object.fromEntries(
    [1, 2, 3, 4].map((i) => [
      `src/feature${i}.ts`,
      `import type { Shape, Id } from './types';\nimport { type Id as Key } from './types';\nimport { total } from './logic';\nexport function run${i}(s: Shape[], id: Id, k: Key): string { return id + k + total(s); }\n`,
    ]),
  ),
  'src/app.ts': "import { run1 } from './feature1';\nimport { run2 } from './feature2';\nexport const app = () => run1([], 'a', 'b') + run2([], 'c', 'd');\n",
};

let repo: TempRepo;
let index: GraphIndex;
beforeAll(async () => {
  repo = new TempRepo();
  const head = repo.commit(FILES, 'alice');
  const store = new MemoryGraphStore();
  await ingestRepo(store, repo.dir, head);
  index = new GraphIndex(await store.snapshot());
});
afterAll(() => repo.remove());

it('parses `import type` and all-`type` named imports as type-only, a mixed import as a value import', () => {
  const r = parseSource('x.ts', "import type { A } from './a';\nimport { type B, type C } from './b';\nimport { type D, e } from './d';\nimport f from './f';\nf(e);\n");
  if (!r.ok) throw new Error(r.error);
  expect(r.imports.map((i) => [i.specifier, i.typeOnly ?? false])).toEqual([['./a', true], ['./b', true], ['./d', false], ['./f', false]]);
});

it('stores type-only imports as IMPORTS_TYPE edges and ranks files by value imports', () => {
  const edges = index.snapshot.edges.filter((e) => e.from === 'src/feature1.ts' && e.type.startsWith('IMPORTS'));
  expect(edges.map((e) => `${e.type} ${e.to}`).sort()).toEqual(['IMPORTS src/logic.ts', 'IMPORTS_TYPE src/types.ts']);
  const ranked = [...computeCentrality(index).files.values()].sort((a, b) => b.pageRank - a.pageRank);
  expect(ranked[0]!.id).toBe('src/logic.ts');
  expect(computeCentrality(index).files.get('src/types.ts')!.fanIn).toBe(0); // by value, nobody imports it
});

it('blast radius of a types file still reaches its type-only importers', () => {
  expect(blastRadius(index, ['src/types.ts']).affectedFiles.map((a) => a.path)).toEqual([
    'src/feature1.ts', 'src/feature2.ts', 'src/feature3.ts', 'src/feature4.ts', 'src/logic.ts', 'src/app.ts',
  ]);
});

it('counts an overloaded method once, at its implementation, as the graph holds it', () => {
  const r = parseSource('x.ts', 'export class P {\n  pick(a: string): string;\n  pick(a: number): number;\n  pick(a: unknown): unknown {\n    return a;\n  }\n}\n');
  if (!r.ok) throw new Error(r.error);
  expect(r.symbols).toEqual([
    { name: 'P', kind: 'class', line: 1, endLine: 7 },
    { name: 'P.pick', kind: 'method', line: 4, endLine: 6 },
  ]);
});

it('hot paths that share their chain after the entry are one path, the other entries listed', async () => {
  const chain = new TempRepo();
  try {
    const files: Record<string, string> = {
      'src/core.ts': 'export function core(): number { return 1; }\n',
      'src/mid.ts': "import { core } from './core';\nexport function mid(): number { return core(); }\n",
    };
    for (const e of ['a', 'b', 'c']) files[`src/entry-${e}.ts`] = `import { mid } from './mid';\nexport const ${e} = mid();\n`;
    const head = chain.commit(files, 'alice');
    const store = new MemoryGraphStore();
    await ingestRepo(store, chain.dir, head);
    const chainIndex = new GraphIndex(await store.snapshot());
    const paths = hotPaths(chainIndex, computeCentrality(chainIndex));
    expect(paths.map((p) => [p.nodes, p.otherEntries])).toEqual([[['src/entry-a.ts', 'src/mid.ts', 'src/core.ts'], ['src/entry-b.ts', 'src/entry-c.ts']]]);
  } finally {
    chain.remove();
  }
});
