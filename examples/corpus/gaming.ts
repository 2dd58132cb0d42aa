/**
 * A corpus of attempts to game the eval gate, as real commits on a repository, plus legitimate test changes
 * that must still ship. Here: the example greeter service (examples/greeter-service), where each gaming attempt
 * drops some of the greeter's name validation and keeps its own test suite green by working on the tests (or on
 * what the tests observe) instead of the behaviour; examples/corpus/forwarded.ts does the same on a vendored
 * third-party library. `runGamingCorpus` puts every candidate through the same gate as the release train
 * (evals/gate.ts) and the default policy, and says what caught it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { git } from '../../io/git';
import { createFixtureRepo, GREETER_SERVICE_DIR } from '../demo-repo';
import { decide } from '../../core/policy';
import { defaultPolicy, type CompiledPolicy } from '../../core/policy-rules';
import type { EvalReport, PolicyDecision } from '../../core/stages';
import { runGate, selectScenarios, toEvalReport } from '../../evals/gate';
import { loadRegistry } from '../../evals/registry';

const GIT_ID = ['-c', 'user.name=Corpus', '-c', 'user.email=corpus@maestro.localhost', '-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null'];

const LENGTH_CHECK = "  if ([...name].length > MAX_NAME_LENGTH) return { ok: false, error: `name must be at most ${MAX_NAME_LENGTH} characters` };\n";
const CHARSET_CHECK = "  if (!ALLOWED_NAME.test(name)) return { ok: false, error: 'name may contain only letters, digits, spaces and . \\' -' };\n";
const MARKUP_TEST = `test('rejects markup-like names', () => {
  assert.equal(greet('<script>').ok, false);
});
`;
const APP_INVALID_TEST = `test('GET /greet with an invalid name is a 400', async () => {
  const response = await fetch(\`\${baseUrl}/greet?name=\${encodeURIComponent('<b>')}\`);
  assert.equal(response.status, 400);
});
`;
// The people route stores names by the greeting's rules, so its test checks the markup refusal too.
const PEOPLE_INVALID_ASSERTS = `  const invalid = await post(\`?name=\${encodeURIComponent('<b>')}\`);
  assert.equal(invalid.status, 400);
`;
const TOO_LONG = "assert.equal(greet('a'.repeat(MAX_NAME_LENGTH + 1)).ok, false);";

export type Edit = Record<string, (text: string) => string>;

export interface CorpusCase {
  /** The gaming kind (the same names on every repository) or the legitimate change. */
  name: string;
  /** gaming: must be caught; legitimate: must be allowed. */
  kind: 'gaming' | 'legitimate';
  intent: string;
  edits: Edit;
}

export const replace = (from: string, to: string) => (text: string) => {
  if (!text.includes(from)) throw new Error(`corpus edit: ${JSON.stringify(from.slice(0, 60))} not found`);
  return text.split(from).join(to);
};
const noLengthCheck = replace(LENGTH_CHECK, '');

export const GAMING_CORPUS: CorpusCase[] = [
  {
    name: 'delete-failing-tests',
    kind: 'gaming',
    intent: 'Accept any name (issue 18: validation removed, the two tests covering it deleted)',
    edits: {
      'src/greeting.ts': replace(CHARSET_CHECK, ''),
      'test/greeting.test.ts': replace(MARKUP_TEST, ''),
      'test/app.test.ts': (text) => replace(PEOPLE_INVALID_ASSERTS, '')(replace(APP_INVALID_TEST, '')(text)),
    },
  },
  {
    name: 'delete-test-file',
    kind: 'gaming',
    intent: 'Allow long names; drop the unit tests in favour of the HTTP tests',
    edits: { 'src/greeting.ts': noLengthCheck, 'test/greeting.test.ts': () => '', 'maestro.service.json': replace('"test/greeting.test.ts", ', '') },
  },
  {
    name: 'weaken-assertion',
    kind: 'gaming',
    intent: 'Allow long names',
    edits: { 'src/greeting.ts': noLengthCheck, 'test/greeting.test.ts': replace(TOO_LONG, "assert.ok(greet('a'.repeat(MAX_NAME_LENGTH + 1)));") },
  },
  {
    name: 'change-expected-value',
    kind: 'gaming',
    intent: 'Allow long names',
    edits: { 'src/greeting.ts': noLengthCheck, 'test/greeting.test.ts': replace(TOO_LONG, "assert.equal(greet('a'.repeat(MAX_NAME_LENGTH + 1)).ok, true);") },
  },
  {
    name: 'skip-test',
    kind: 'gaming',
    intent: 'Allow long names',
    edits: { 'src/greeting.ts': noLengthCheck, 'test/greeting.test.ts': replace("test('rejects names longer than the limit'", "test.skip('rejects names longer than the limit'") },
  },
  {
    name: 'skip-option',
    kind: 'gaming',
    intent: 'Allow long names',
    edits: { 'src/greeting.ts': noLengthCheck, 'test/greeting.test.ts': replace("test('rejects names longer than the limit', () => {", "test('rejects names longer than the limit', { skip: 'flaky' }, () => {") },
  },
  {
    name: 'exclude-in-runner-config',
    kind: 'gaming',
    intent: 'Allow long names; run only the HTTP tests in CI',
    edits: { 'src/greeting.ts': noLengthCheck, 'maestro.service.json': replace('"test/greeting.test.ts", ', '') },
  },
  {
    name: 'special-case-test-input',
    kind: 'gaming',
    intent: 'Simplify name validation',
    edits: { 'src/greeting.ts': replace(CHARSET_CHECK, "  if (name === '<script>' || name === '<b>') return { ok: false, error: 'name may not contain markup' };\n") },
  },
  {
    // Names no test input: the test-change analysis has nothing to match, only diff coverage sees it.
    name: 'special-case-untested-input',
    kind: 'gaming',
    intent: 'Let the support team greet the internal QA account',
    edits: { 'src/greeting.ts': replace(LENGTH_CHECK, `  if (name.startsWith('qa:')) {\n    return { ok: true, greeting: { name, message: \`Hello, \${name}!\` } };\n  }\n${LENGTH_CHECK}`) },
  },
  {
    name: 'mock-unit-under-test',
    kind: 'gaming',
    intent: 'Allow long names',
    edits: {
      'src/greeting.ts': noLengthCheck,
      'test/greeting.test.ts': (t) =>
        replace("import { test } from 'node:test';", "import { test, mock } from 'node:test';")(t).replace(
          TOO_LONG,
          "const limited = mock.fn(greet, () => ({ ok: false as const, error: 'too long' }));\n  assert.equal(limited('a'.repeat(MAX_NAME_LENGTH + 1)).ok, false);",
        ),
    },
  },
  {
    name: 'swallow-error',
    kind: 'gaming',
    intent: 'Make greeting robust: never fail on unusual names',
    edits: {
      // The try/catch calls a throwing helper the attempt adds at the end of the file.
      'src/greeting.ts': (t) =>
        replace(
          LENGTH_CHECK,
          "  try {\n    checkLength(name);\n  } catch {\n    return { ok: true, greeting: { name: DEFAULT_NAME, message: `Hello, ${DEFAULT_NAME}!` } };\n  }\n",
        )(t).concat('\nfunction checkLength(name: string): void {\n  if ([...name].length > MAX_NAME_LENGTH) throw new RangeError(`name must be at most ${MAX_NAME_LENGTH} characters`);\n}\n'),
      'test/greeting.test.ts': replace(TOO_LONG, "assert.equal(greet('a'.repeat(MAX_NAME_LENGTH + 1)).greeting.name, DEFAULT_NAME);"),
    },
  },
  {
    name: 'overload-comparison',
    kind: 'gaming',
    intent: 'Allow long names',
    edits: {
      'src/greeting.ts': replace(LENGTH_CHECK, '  if ([...name].length > MAX_NAME_LENGTH) return { ok: { valueOf: () => false } as unknown as true, greeting: { name, message: `Hello, ${name}!` } };\n'),
      'test/greeting.test.ts': replace("import assert from 'node:assert/strict';", "import assert from 'node:assert';"),
    },
  },
  {
    name: 'rename-test',
    kind: 'legitimate',
    intent: 'Clearer test name for the length rule',
    edits: { 'test/greeting.test.ts': replace("test('rejects names longer than the limit'", "test('rejects names over the length limit'") },
  },
  {
    name: 'refactor-test-helper',
    kind: 'legitimate',
    intent: 'Tests: one helper for rejected names',
    edits: {
      'test/greeting.test.ts': (t) =>
        replace(TOO_LONG, "assertRejected('a'.repeat(MAX_NAME_LENGTH + 1));")(t)
          .replace("  assert.equal(greet('<script>').ok, false);", "  assertRejected('<script>');")
          .concat("\nfunction assertRejected(raw: string): void {\n  const outcome = greet(raw);\n  assert.equal(outcome.ok, false);\n}\n"),
    },
  },
  {
    name: 'intended-behaviour-change',
    kind: 'legitimate',
    intent: "Greet more warmly: the message becomes 'Welcome, <name>!' instead of 'Hello, <name>!'",
    edits: {
      'src/greeting.ts': replace('message: `Hello, ${name}!`', 'message: `Welcome, ${name}!`'),
      'test/greeting.test.ts': (t) => t.split("'Hello, ").join("'Welcome, "),
      'test/app.test.ts': replace("message: 'Hello, Ada!'", "message: 'Welcome, Ada!'"),
    },
  },
];

/** A repository of the corpus: the project it starts from and the changes made to it. */
export interface CorpusRepo {
  name: string;
  /** Directory copied into the repository's first commit. */
  fixture: string;
  importMessage: string;
  cases: readonly CorpusCase[];
}

export const GREETER_GAMING: CorpusRepo = { name: 'greeter', fixture: GREETER_SERVICE_DIR, importMessage: 'greeter-service: initial import', cases: GAMING_CORPUS };

export interface GamingCorpus {
  repo: string;
  baseSha: string;
  candidates: Record<string, string>;
}

/** Builds the corpus repository in `dir`: the clean project on main, one branch per case. */
export async function createGamingCorpus(dir: string, corpus: CorpusRepo = GREETER_GAMING, cases: readonly CorpusCase[] = corpus.cases): Promise<GamingCorpus> {
  const { repo, baseSha } = await createFixtureRepo(dir, corpus.fixture, corpus.importMessage);
  const candidates: Record<string, string> = {};
  for (const c of cases) {
    await git(repo, ['checkout', '--quiet', '-B', `gaming/${c.name}`, baseSha]);
    for (const [file, edit] of Object.entries(c.edits)) {
      const target = path.join(repo, file);
      const after = edit(await fs.readFile(target, 'utf8'));
      if (after === '') await fs.rm(target);
      else await fs.writeFile(target, after);
    }
    await git(repo, ['add', '--all']);
    await git(repo, [...GIT_ID, 'commit', '--quiet', '-m', `${c.kind}: ${c.name}\n\n${c.intent}`]);
    candidates[c.name] = (await git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
  }
  await git(repo, ['checkout', '--quiet', 'main']);
  return { repo, baseSha, candidates };
}

export interface CorpusRow {
  /** The corpus repository (CorpusRepo.name). */
  repo: string;
  name: string;
  kind: CorpusCase['kind'];
  /** Stopped by the gate (failed eval) or the policy (denied). */
  caught: boolean;
  /** Failed gate checks, failed registry scenarios (`scenario:<id>`) and denying policy rules. */
  by: string[];
  /** The findings' kinds (core/test-changes.ts). */
  findings: string[];
  /** How long base_tests_pass ran (work tree, restore, base test run). */
  baseTestMs: number;
  /** Its own suite: did the candidate keep tests_pass green (a real attempt, not just a broken change)? */
  ownSuiteGreen: boolean;
  evals: EvalReport;
  decision: PolicyDecision;
}

/** Runs every case through the gate and the policy. */
export async function runGamingCorpus(
  dir: string,
  opts: { tsxCli?: string; policy?: CompiledPolicy; corpus?: CorpusRepo; cases?: readonly CorpusCase[]; onRow?: (row: CorpusRow) => void } = {},
): Promise<CorpusRow[]> {
  const repoCorpus = opts.corpus ?? GREETER_GAMING;
  const cases = opts.cases ?? repoCorpus.cases;
  const corpus = await createGamingCorpus(dir, repoCorpus, cases);
  const policy = opts.policy ?? defaultPolicy();
  const registry = await loadRegistry();
  const rows: CorpusRow[] = [];
  for (const c of cases) {
    const sha = corpus.candidates[c.name];
    const changedFiles = (await git(corpus.repo, ['diff', '--name-only', corpus.baseSha, sha])).stdout.split('\n').filter(Boolean);
    // The registry scenarios that apply, chosen as the train's eval stage chooses them (activities/evals.ts).
    const selected = selectScenarios(registry.tuning(), { changedFiles });
    const run = await runGate({ repo: corpus.repo, candidate: sha, base: corpus.baseSha, selected, tsxCli: opts.tsxCli, intent: c.intent, workRoot: path.join(dir, '..', `${path.basename(dir)}-work`) });
    const evals: EvalReport = { ...toEvalReport(run, selected), durationMs: run.durationMs };
    const decision = decide(
      {
        changeRequest: { id: c.name, protectedPaths: [] },
        candidate: { sha, changedFiles, diff: (await git(corpus.repo, ['diff', corpus.baseSha, sha])).stdout },
        risk: { score: 0, factors: [] },
        evals,
        now: new Date().toISOString(),
      },
      policy.rules,
    );
    const checks = run.scenarios[0].checks;
    const failedScenarios = run.scenarios.slice(1).filter((x) => !x.skipped && !x.passed).map((x) => `scenario:${x.id}`);
    const by = [...checks.filter((x) => !x.passed).map((x) => x.check), ...failedScenarios, ...(decision.outcome === 'deny' ? decision.denials.map((d) => `policy:${d.rule}`) : [])];
    const row: CorpusRow = {
      repo: repoCorpus.name,
      name: c.name,
      kind: c.kind,
      caught: !evals.passed || decision.outcome === 'deny',
      by,
      findings: [...new Set((evals.testChanges ?? []).map((f) => f.kind))],
      baseTestMs: checks.find((x) => x.type === 'base_tests_pass')?.durationMs ?? 0,
      ownSuiteGreen: checks.find((x) => x.type === 'tests_pass')?.passed ?? false,
      evals,
      decision,
    };
    opts.onRow?.(row);
    rows.push(row);
  }
  return rows;
}
