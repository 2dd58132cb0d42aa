/** The offline spec's use of the code graph: scenarios about the touched exported symbols and their dependents. */
import { createSpecActivities } from '../../../activities/spec';
import { codegraphSymbolsFor, filesTouchedByRequest, touchedSymbolsFromGraph } from '../../../specsynth/graph';
import { GraphIndex } from '../../../codegraph/analysis';
import { parseChangeRequest } from '../../../core/change-request';
import type { GraphSnapshot } from '../../../core/codegraph';
import { specSchema, synthesizeSpecFromRequest } from '../../../core/spec';

const file = (p: string, isTest = false) => ({ path: p, lines: 10, isTest, parsed: true, churn: 1, exports: '[]', unresolved: '[]' });
const sym = (f: string, name: string, kind: 'function' | 'class' | 'method' = 'function') => ({ id: `${f}#${name}`, file: f, name, kind, line: 1, endLine: 3 });

// src/greet.ts exports greet and Greeter.hello; src/app.ts and test/greet.test.ts use them; src/cli.ts calls app's main.
const snapshot: GraphSnapshot = {
  files: [file('src/greet.ts'), file('src/app.ts'), file('src/cli.ts'), file('test/greet.test.ts', true), file('src/unused.ts')],
  symbols: [sym('src/greet.ts', 'greet'), sym('src/greet.ts', 'Greeter', 'class'), sym('src/greet.ts', 'Greeter.hello', 'method'), sym('src/app.ts', 'main'), sym('src/cli.ts', 'run'), sym('src/unused.ts', 'lonely')],
  owners: [],
  owns: [],
  edges: [
    { type: 'IMPORTS', from: 'src/app.ts', to: 'src/greet.ts' },
    { type: 'REFERENCES', from: 'src/app.ts', to: 'src/greet.ts#greet' },
    { type: 'REFERENCES', from: 'test/greet.test.ts', to: 'src/greet.ts#Greeter' },
    { type: 'CALLS', from: 'src/app.ts#main', to: 'src/greet.ts#greet' },
    { type: 'CALLS', from: 'src/cli.ts#run', to: 'src/app.ts#main' },
  ],
};
const index = new GraphIndex(snapshot);

const request = (change: unknown) =>
  parseChangeRequest({ id: 'greet-42', title: 'Polite greeting', intent: 'Greet people politely.', repo: '/tmp/example', service: 'hello', change });
const patch = request({ kind: 'patch', diff: '--- a/src/greet.ts\n+++ b/src/greet.ts\n@@ -1 +1 @@\n-a\n+b\n--- a/src/unused.ts\n+++ b/src/unused.ts\n@@ -1 +1 @@\n-a\n+b\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-a\n+b\n' });

describe('touched symbols from the code graph', () => {
  it('lists the exported symbols of touched files with their dependent files (direct and transitive callers)', () => {
    expect(touchedSymbolsFromGraph(index, filesTouchedByRequest(index, patch))).toEqual([
      { file: 'src/greet.ts', symbols: ['Greeter', 'Greeter.hello', 'greet'], dependents: 3 },
      { file: 'src/unused.ts', symbols: ['lonely'], dependents: 0 },
    ]);
  });

  it('finds a codemod target by its declared file or by the symbol it names', () => {
    expect(filesTouchedByRequest(index, request({ kind: 'codemod', codemod: { codemod: 'rename-method', class: 'Greeter', from: 'hello', to: 'hi' } }))).toEqual(['src/greet.ts']);
    expect(filesTouchedByRequest(index, request({ kind: 'codemod', codemod: { codemod: 'rename-function', from: 'main', to: 'start' } }))).toEqual(['src/app.ts']);
    expect(filesTouchedByRequest(index, request({ kind: 'codemod', codemod: { codemod: 'move-file', from: 'src/cli.ts', to: 'bin/cli.ts' } }))).toEqual(['src/cli.ts']);
  });

  it('the adapter reads the graph of the base branch through the code-graph service', async () => {
    const calls: string[] = [];
    const symbolsFor = codegraphSymbolsFor({ analyse: async (repo, rev) => (calls.push(`${repo}@${rev}`), { index } as never) });
    expect(await symbolsFor(patch)).toHaveLength(2);
    expect(calls).toEqual(['/tmp/example@main']);
  });
});

describe('offline spec with the graph view', () => {
  const symbols = touchedSymbolsFromGraph(index, ['src/greet.ts', 'src/unused.ts']);

  it('adds a Given/When/Then scenario and a criterion per touched file, about its exports and dependents', () => {
    const spec = synthesizeSpecFromRequest(patch, { symbols });
    expect(specSchema.safeParse(spec).success).toBe(true);
    const plain = synthesizeSpecFromRequest(patch);
    expect(spec.scenarios).toHaveLength(plain.scenarios.length + 2);
    expect(spec.acceptanceCriteria).toHaveLength(plain.acceptanceCriteria.length + 2);
    expect(spec.scenarios).toContainEqual(
      expect.objectContaining({
        given: expect.stringContaining('where `src/greet.ts` exports `Greeter`, `Greeter.hello`, `greet` with 3 dependents in the code graph'),
        then: 'every dependent of `Greeter`, `Greeter.hello`, `greet` still type-checks and its tests pass, unless the change declares the break',
      }),
    );
    expect(spec.acceptanceCriteria.map((a) => a.text)).toContain('The 3 dependents of `Greeter`, `Greeter.hello`, `greet` in `src/greet.ts` still type-check and their tests pass on the candidate');
    expect(spec.scenarios.some((s) => s.given.includes('`src/unused.ts` exports `lonely` and the code graph shows no dependents'))).toBe(true);
    // The guard rails still come last.
    expect(spec.scenarios.at(-1)!.then).toBe("the service's own test command passes on the candidate");
  });

  it('is deterministic whatever order the graph reports in, and caps long symbol lists', () => {
    const shuffled = [...symbols].reverse().map((s) => ({ ...s, symbols: [...s.symbols].reverse() }));
    expect(synthesizeSpecFromRequest(patch, { symbols: shuffled })).toEqual(synthesizeSpecFromRequest(patch, { symbols }));
    const many = synthesizeSpecFromRequest(patch, { symbols: [{ file: 'src/big.ts', symbols: Array.from({ length: 12 }, (_, i) => `f${String(i).padStart(2, '0')}`), dependents: 1 }] });
    expect(many.acceptanceCriteria.map((a) => a.text)).toContain('The 1 dependent of `f00`, `f01`, `f02`, `f03`, `f04`, `f05`, `f06`, `f07` and 4 more in `src/big.ts` still type-check and their tests pass on the candidate');
  });

  it('the activity uses symbolsFor when given, and goes on without it when the graph is unavailable', async () => {
    const withGraph = createSpecActivities({ env: {}, symbolsFor: async () => symbols });
    await expect(withGraph.synthesizeSpec(patch)).resolves.toEqual(synthesizeSpecFromRequest(patch, { symbols }));
    const down = createSpecActivities({ env: {}, symbolsFor: async () => Promise.reject(new Error('neo4j down')) });
    await expect(down.synthesizeSpec(patch)).resolves.toEqual(synthesizeSpecFromRequest(patch));
  });
});
