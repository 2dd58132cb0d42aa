/**
 * Counterexamples travel into a train's evidence: a repository whose property test fails writes its repro into the
 * directory the eval gate gives it (MAESTRO_FC_REPRO_DIR), and the gate's EvalReport carries it (evals/gate.ts).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROPERTY_REPRO_DIR_ENV } from '../../../core/property-repro';
import { defineScenario } from '../../../evals/dsl';
import { toEvalReport } from '../../../evals/gate';
import { readPropertyRepros } from '../../../evals/property-repros';
import { renderTile } from '../../../evals/report';
import { runScenarios } from '../../../evals/runner';
import { git } from '../../../io/git';
import { PROJECT_ROOT } from '../../../io/paths';

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-repros-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const commit = async (repo: string, message: string) => {
  await git(repo, ['add', '-A']);
  await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', message]);
  return (await git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
};

// The repository's own property test, following the convention: on failure, a repro in $MAESTRO_FC_REPRO_DIR.
const propertyTest = `import { test } from 'node:test';
import fc from ${JSON.stringify(path.join(PROJECT_ROOT, 'node_modules/fast-check/lib/fast-check.js'))};
import { reproOf, writePropertyRepro } from ${JSON.stringify(path.join(PROJECT_ROOT, 'evals/property-repros.ts'))};
import { clamp } from '../src/clamp.ts';
test('clamp stays within 0..100', () => {
  const details = fc.check(fc.property(fc.integer(), (n) => { const c = clamp(n); return c >= 0 && c <= 100; }), { seed: 1234 });
  if (!details.failed) return;
  const repro = reproOf(details, { name: 'clamp stays within 0..100', file: 'test/clamp.property.ts' }, (seed) => 'SEED=' + seed + ' node test/clamp.property.ts');
  throw new Error('counterexample ' + repro.counterexample + '; repro: ' + writePropertyRepro(repro, process.env.${PROPERTY_REPRO_DIR_ENV} ?? 'reports'));
});
`;
it("a failing property's repro reaches the EvalReport, the policy's evidence and the tile; a passing suite carries none", async () => {
  const repo = path.join(tmp, 'repo');
  await fs.mkdir(path.join(repo, 'src'), { recursive: true });
  await fs.mkdir(path.join(repo, 'test'), { recursive: true });
  await git(repo, ['init', '--quiet', '-b', 'main']);
  await fs.writeFile(path.join(repo, 'src/clamp.ts'), 'export const clamp = (n: number): number => Math.min(100, Math.max(0, n));\n');
  await fs.writeFile(path.join(repo, 'test/clamp.property.ts'), propertyTest);
  const base = await commit(repo, 'base');
  // The candidate forgets the lower bound.
  await fs.writeFile(path.join(repo, 'src/clamp.ts'), 'export const clamp = (n: number): number => Math.min(100, n);\n');
  const candidate = await commit(repo, 'candidate');

  const scenario = defineScenario({ id: 'suite@v1', title: 'the suite passes', checks: [{ type: 'tests_pass' }] });
  const run = (sha: string) =>
    runScenarios({ repo, candidate: sha, base, scenarios: [scenario], cacheDir: null, workRoot: path.join(tmp, 'work'), testCommand: ['{node}', '{tsx}', 'test/clamp.property.ts'] });

  const failed = await run(candidate);
  const report = toEvalReport(failed);
  expect(report.passed).toBe(false);
  expect(report.failingProperties?.count).toBe(1);
  const [repro] = report.failingProperties!.repros;
  // fast-check shrinks any negative input to -1.
  expect(repro).toMatchObject({ test: 'clamp stays within 0..100', file: 'test/clamp.property.ts', seed: 1234, counterexample: '[-1]', replay: 'SEED=1234 node test/clamp.property.ts' });
  expect(repro!.path).toEqual(expect.any(String));
  expect(renderTile({ run: failed })).toContain('| clamp stays within 0..100 (test/clamp.property.ts) | [-1] | `SEED=1234 node test/clamp.property.ts` |');
  // Repeated runs that fail the same property with the same seed count once, in the report and in the tile.
  const repeated = { ...failed, scenarios: failed.scenarios.map((s) => ({ ...s, repeats: [...s.repeats, ...s.repeats] })) };
  expect(toEvalReport(repeated).failingProperties?.count).toBe(1);
  expect(renderTile({ run: repeated }).match(/\| clamp stays within 0\.\.100/g)).toHaveLength(1);

  const passed = toEvalReport(await run(base));
  expect(passed.passed).toBe(true);
  expect(passed).not.toHaveProperty('failingProperties');
});

it('reads only files of the repro shape from the directory; a missing directory holds none', async () => {
  expect(await readPropertyRepros(path.join(tmp, 'absent'))).toEqual([]);
  await fs.writeFile(path.join(tmp, 'junk.json'), '{not json');
  await fs.writeFile(path.join(tmp, 'other.json'), JSON.stringify({ test: 'x' }));
  const repro = { test: 'b', file: 'f', seed: 2, path: null, counterexample: '[]', numRuns: 1, error: '', replay: 'r' };
  await fs.writeFile(path.join(tmp, 'b.2.json'), JSON.stringify(repro));
  await fs.writeFile(path.join(tmp, 'a.9.json'), JSON.stringify({ ...repro, test: 'a', seed: 9 }));
  expect((await readPropertyRepros(tmp)).map((r) => `${r.test}.${r.seed}`)).toEqual(['a.9', 'b.2']);
});
