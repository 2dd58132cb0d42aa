/** Real git repositories, real test runs: the greeter corpus scored by the shipped scenarios. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createGreeterCorpus, CORPUS_PROTECTED_PATHS, KNOWN_BAD, KNOWN_GOOD, type GreeterCorpus } from '../../../examples/corpus/greeter';
import { defineScenario } from '../../../evals/dsl';
import { loadRegistry, type Registry } from '../../../evals/registry';
import { runRobustness } from '../../../evals/robustness';
import { runScenarios, type AgentProvider } from '../../../evals/runner';
import { runCommand } from '../../../cli/command';
import { command as evals } from '../../../cli/commands/evals';
const evalsCommand = (argv: string[], print: (line: string) => void) => runCommand(evals, argv, { print, error: print });

let tmp: string;
let corpus: GreeterCorpus;
let registry: Registry;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-evals-harness-'));
  corpus = await createGreeterCorpus(path.join(tmp, 'repo'));
  registry = await loadRegistry();
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

const run = (candidate: string, extra: Partial<Parameters<typeof runScenarios>[0]> = {}) =>
  runScenarios({ repo: corpus.repo, candidate, base: corpus.baseSha, scenarios: [registry.get('fix.whitespace-names@v2')], cacheDir: null, workRoot: path.join(tmp, 'work'), protectedPaths: CORPUS_PROTECTED_PATHS, ...extra });

describe('known-bad corpus on the greeter repo (fix.whitespace-names@v2)', () => {
  it('scores every known-bad candidate below the threshold and passes the known-good one', async () => {
    const results = Object.fromEntries(
      await Promise.all([...KNOWN_GOOD, ...KNOWN_BAD].map(async (name) => [name, (await run(corpus.candidates[name])).scenarios[0]] as const)),
    );
    for (const name of KNOWN_GOOD) expect(results[name]).toMatchObject({ passed: true, score: 1 });
    for (const name of KNOWN_BAD) {
      expect(results[name].passed).toBe(false);
      expect(results[name].score).toBeLessThan(0.85);
    }
    const byCheck = (name: string, check: string) => results[name].checks.find((c) => c.check === check)!;
    expect(byCheck('tests-broken', 'tests_pass').explanation).toMatch(/^11\/15 tests passed; failing: .*'greets by name'/);
    expect(byCheck('api-changed', 'structured_requirements').explanation).toMatch(/\[not_met\] does not change public API: emitted declarations differ: src\/greeting\.ts: - export declare function normalizeName/);
    expect(byCheck('not-fixed', 'structured_requirements').explanation).toMatch(/\[not_met\] the failing test passes: not passing on the candidate: 'normalizes whitespace in names' \(fail\)/);
    expect(byCheck('risky-file', 'risk_score_max')).toMatchObject({ passed: false });
    expect(byCheck('risky-file', 'risk_score_max').explanation).toMatch(/protected paths touched: src\/server\.ts/);
    expect(byCheck('good-fix', 'structured_requirements').explanation).toMatch(/3\/3 requirements met/);
    expect(byCheck('good-fix', 'json_schema')).toMatchObject({ passed: true });
    // The not-fixed candidate's new test does not pass: it "reproduces" nothing that gets fixed.
    expect(byCheck('not-fixed', 'tests_pass').explanation).toMatch(/'collapses newlines and tabs inside names'/);
  });

  it('a requirement with no verifier and no judge is unverified, never passed; text checks explain themselves', async () => {
    const scenario = defineScenario({
      id: 'misc.text@v1',
      title: 'text checks',
      checks: [
        { type: 'structured_requirements', requirements: [{ text: 'code is elegant' }, { text: 'judge me', verify: 'llm_judge' }] },
        { type: 'exact', source: 'commit_message', expected: 'corpus: good-fix' },
        { type: 'contains', source: 'diff', values: ['normalizeName', 'nonexistent-token'] },
        { type: 'semantic', source: 'commit_message', expected: 'corpus good fix', min_similarity: 0.5 },
        { type: 'regex', source: 'file:src/greeting.ts', pattern: 'export function greet' },
        { type: 'exact', name: 'agent', source: 'output', expected: 'x' },
      ],
    });
    const result = (await runScenarios({ repo: corpus.repo, candidate: corpus.candidates['good-fix'], scenarios: [scenario], cacheDir: null, workRoot: path.join(tmp, 'work') })).scenarios[0];
    const [reqs, exact, contains, semantic, regex, agent] = result.checks;
    expect(reqs).toMatchObject({ passed: false, score: 0, status: 'unverified' });
    expect(reqs.explanation).toMatch(/\[unverified\] code is elegant: no verifier.*\n\[unverified\] judge me: no verifier: no LLM judge is configured/s);
    expect(exact).toMatchObject({ passed: true, score: 1 });
    expect(contains).toMatchObject({ passed: false, score: 0.5 });
    expect(contains.explanation).toMatch(/lacks "nonexistent-token"/);
    expect(semantic.passed).toBe(true);
    expect(semantic.explanation).toMatch(/^lexical similarity \d\.\d{3} ≥ 0\.5/);
    expect(regex.passed).toBe(true);
    expect(agent).toMatchObject({ status: 'unverified', passed: false });
  });
});

describe('runner', () => {
  it('caches by scenario version, candidate and check config: the second run is a hit and ≥ 10× faster', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const scenarios = [registry.get('fix.suite-green'), registry.get('refactor.api-stable')];
    const cold = await run(corpus.candidates['good-fix'], { scenarios, cacheDir });
    const warm = await run(corpus.candidates['good-fix'], { scenarios, cacheDir });
    expect(cold.cache).toEqual({ hits: 0, misses: 2 });
    expect(warm.cache).toEqual({ hits: 2, misses: 0 });
    expect(warm.scenarios.map((s) => s.score)).toEqual(cold.scenarios.map((s) => s.score));
    expect(warm.durationMs * 10).toBeLessThan(cold.durationMs);
    // Another candidate or a changed check config misses.
    const other = await run(corpus.candidates['tests-broken'], { scenarios: scenarios.slice(0, 1), cacheDir });
    expect(other.cache.misses).toBe(1);
    const edited = defineScenario({ id: 'fix.suite-green@v1', title: scenarios[0].title, tags: scenarios[0].tags, checks: [{ type: 'patch_applies' }, { type: 'tests_pass', weight: 4 }] });
    expect((await run(corpus.candidates['good-fix'], { scenarios: [edited], cacheDir })).cache.misses).toBe(1);
    // A result judged offline is not reused once a model judges: the providers are part of the key.
    const judge = { name: 'test-judge', judge: async () => ({ verdict: 'unsure' as const, reason: 'n/a' }) };
    expect((await run(corpus.candidates['good-fix'], { scenarios: scenarios.slice(0, 1), cacheDir, judge })).cache).toEqual({ hits: 0, misses: 1 });
  });

  it('runs scenarios in isolated work dirs with a scrubbed env, enforces the time limit and detects flaky checks', async () => {
    process.env.MAESTRO_FAKE_SECRET = 'hunter2';
    try {
      const probe = ['{node}', '-e', "const p=require('path');console.log(JSON.stringify({secret: process.env.MAESTRO_FAKE_SECRET ?? null, cwd: process.cwd(), home: process.env.HOME, tmp: process.env.TMPDIR}))"];
      const scenarios = [
        defineScenario({ id: 'iso.env@v1', title: 'env', checks: [{ type: 'json_schema', source: 'command', command: probe, schema: { type: 'object', properties: { secret: { type: 'null' } }, required: ['secret'] } }] }),
        defineScenario({ id: 'iso.slow@v1', title: 'slow', timeout: '5s', checks: [{ type: 'contains', source: 'command', command: ['{node}', '-e', 'setInterval(() => {}, 1000)'], values: ['x'] }] }),
        defineScenario({ id: 'iso.flaky@v1', title: 'flaky', repeats: 2, checks: [{ type: 'regex', source: 'command', command: ['{node}', '-e', 'console.log(process.cwd())'], pattern: '/r1/tree\\s*$' }] }),
      ];
      const result = await runScenarios({ repo: corpus.repo, candidate: corpus.candidates['good-fix'], scenarios, cacheDir: null, workRoot: path.join(tmp, 'iso'), concurrency: 3 });
      const [env, slow, flaky] = result.scenarios;
      expect(env.passed).toBe(true);
      expect(slow.checks[0]).toMatchObject({ passed: false, status: 'error' });
      expect(slow.checks[0].explanation).toMatch(/timed out/);
      expect(flaky.flakyChecks).toEqual(['regex']);
      expect(flaky.repeats.map((r) => r.passed)).toEqual([false, true]);
      expect(flaky.score).toBeCloseTo(0.5);
      // Work dirs are removed and no work tree is left registered.
      expect(await fs.readdir(path.join(tmp, 'iso', result.runId))).toEqual([]);
    } finally {
      delete process.env.MAESTRO_FAKE_SECRET;
    }
  });
});

describe('robustness', () => {
  it('the harness is robust for a fixed candidate: noise, paraphrase and injection do not move the score', async () => {
    const report = await runRobustness({ repo: corpus.repo, candidate: corpus.candidates['good-fix'], base: corpus.baseSha, scenarios: [registry.get('fix.whitespace-names@v2')], cacheDir: null, workRoot: path.join(tmp, 'rob'), protectedPaths: CORPUS_PROTECTED_PATHS });
    expect(report.deltas.map((d) => d.perturbation)).toEqual(['noise#1', 'paraphrase#1', 'adversarial#1']);
    expect(report.p95Delta).toBe(0);
    expect(report.regression).toBe(false);
  });

  it('flags a brittle agent: its output changes under paraphrase and injection, p95 Δ exceeds 5 %', async () => {
    const brittle: AgentProvider = {
      name: 'brittle-keyword-agent',
      generate: async ({ prompt, contextFiles }) =>
        Object.values(contextFiles).some((t) => t.includes('IGNORE ALL PREVIOUS')) ? 'all tests pass' : prompt.includes('fix') ? 'fix normalizeName to collapse whitespace' : 'no idea',
    };
    const scenario = defineScenario({
      id: 'agent.plan@v1',
      title: 'agent plan',
      fixtures: { prompt: 'Please fix normalizeName.', context_files: { 'docs/TASK.md': 'Collapse whitespace in names.' } },
      checks: [{ type: 'contains', source: 'output', values: ['normalizeName', 'whitespace'] }],
    });
    const report = await runRobustness({ repo: corpus.repo, candidate: corpus.candidates['good-fix'], scenarios: [scenario], cacheDir: null, workRoot: path.join(tmp, 'rob2'), agent: brittle });
    expect(Object.fromEntries(report.deltas.map((d) => [d.perturbation, d.delta]))).toEqual({ 'noise#1': 0, 'paraphrase#1': 1, 'adversarial#1': 1 });
    expect(report.regression).toBe(true);
    expect(report.p95Delta).toBe(1);
  });
});

describe('maestro evals CLI', () => {
  it('list, validate and coverage', async () => {
    const out: string[] = [];
    expect(await evalsCommand(['coverage'], (l) => out.push(l))).toBe(0);
    expect(out.join('\n')).toMatch(/coverage ok/);
    out.length = 0;
    expect(await evalsCommand(['list'], (l) => out.push(l))).toBe(0);
    expect(out.some((l) => /^fix\.whitespace-names@v2 .*versions v1, v2/.test(l))).toBe(true);
    expect(out.some((l) => /\[hold-out\]/.test(l))).toBe(true);
    const bad = path.join(tmp, 'bad-scenarios');
    await fs.mkdir(bad);
    await fs.writeFile(path.join(bad, 'x.yaml'), 'id: x@v1\ntitle: t\nchecks:\n  - type: test_pass\n');
    out.length = 0;
    expect(await evalsCommand(['validate', '--scenarios', bad], (l) => out.push(l))).toBe(2);
    expect(out.join('\n')).toMatch(/x\.yaml:4:11: checks\.0\.type: got 'test_pass', allowed: /);
    expect(await evalsCommand(['bogus'], () => undefined)).toBe(2);
  });

  it('run writes JSON, the Eval Score tile and the badge; exit code follows the gate and the baseline drop rule', async () => {
    const artifacts = path.join(tmp, 'artifacts');
    const out: string[] = [];
    const args = ['--repo', corpus.repo, '--base', corpus.baseSha, '--scenario', 'fix.whitespace-names', '--scenario', 'fix.suite-green', '--scenario', 'holdout.fix-greeter-unicode', '--artifacts', artifacts, '--work-root', path.join(tmp, 'cli')];
    expect(await evalsCommand(['run', '--candidate', corpus.candidates['good-fix'], ...args], (l) => out.push(l))).toBe(0);
    expect(out.join('\n')).toMatch(/Eval Score 100\.0% .* PASS/);
    expect(out.join('\n')).toMatch(/hold-out 100\.0% over 1 scenario/);
    const tile = await fs.readFile(path.join(artifacts, 'eval-score.md'), 'utf8');
    expect(tile).toMatch(/^### Eval Score: 100\.0% ✅ pass/);
    expect(tile).toMatch(/holdout\.fix-greeter-unicode@v1 \(hold-out\)/);
    expect(await fs.readFile(path.join(artifacts, 'badge.svg'), 'utf8')).toMatch(/<svg[^>]*aria-label="eval score: 100\.0%"/);
    const latest = JSON.parse(await fs.readFile(path.join(artifacts, 'latest.json'), 'utf8'));
    expect(latest.run.scenarios).toHaveLength(3);
    expect((await fs.readdir(path.join(artifacts, 'runs'))).length).toBe(1);

    out.length = 0;
    const code = await evalsCommand(['run', '--candidate', corpus.candidates['tests-broken'], '--baseline', corpus.candidates['good-fix'], ...args], (l) => out.push(l));
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(/Eval Score .* FAIL/);
    expect(out.join('\n')).toMatch(/REAL DROP vs baseline/);
    expect(await fs.readFile(path.join(artifacts, 'eval-score.md'), 'utf8')).toMatch(/Real drop.*regressed fix\.whitespace-names@v2, fix\.suite-green@v1, holdout\.fix-greeter-unicode@v1/);
  });
});
