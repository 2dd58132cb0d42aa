/**
 * `maestro demo --eval-drift`: an eval-score degradation the outlier analyzer can find, made of real trains.
 *
 * The analyzer (core/anomalies.ts) judges each (service, metric) series' latest `window` results against at
 * least `minBaseline` results before them. So this releases, onto a fresh demo greeter under traffic:
 *   1. `minBaseline` small real changes (each adds a test that the greeter greets one more real name), tagged
 *      `area:greeter` so the eval gate also runs the scenario `greeter.validation@v1` on them: Eval Score 1,
 *      promoted through a short canary;
 *   2. `window` trains of examples/changes/loosened-validation-change.json, a real code change: it replaces the
 *      greeter's allow-list of name characters by a refusal of names that are one HTML tag. Its own tests and the
 *      base's tests pass, every changed line is covered, but `greeter.validation@v1` now gets 200 for
 *      `<img src=x onerror=alert(1)>` and `Ada</b>`: that scenario scores 0, the Eval Score ½, the policy denies.
 * Nothing is written to the record but what the trains write. `scripts/demo-eval-drift.sh` runs this, then
 * `maestro analyze` twice and `maestro kpi`.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultDegradationOptions } from '../core/anomalies';
import { parseChangeRequest, type ChangeRequest } from '../core/change-request';
import type { RolloutPlanInput } from '../core/rollout-plan';
import { DEMO_PLAN, DEMO_SERVICE, loadExampleChange, type ExampleChangeName } from '../examples/demo-repo';
import { git } from '../io/git';
import type { TrainResult } from '../workflows/messages';
import { connectClient, workflowUiLink } from './client';
import { startDemoStable } from './demo';
import { startTrain, waitForTrain } from './release';

/** Real names the greeter must accept (letters of several scripts, apostrophes, dots, dashes); one baseline change each. */
export const BASELINE_NAMES = [
  "Sinéad O'Brien",
  'Jean-Luc Picard',
  'Nguyễn Văn An',
  'Łukasz Żółć',
  'Dr. Martin Luther King Jr.',
  'Þóra Björg',
  'محمد علي',
  'Søren Kierkegaard',
  'José Ñúñez',
  'Ólafur Arnalds',
  '李小龙',
  'Chloë Grace',
] as const;

export const REGRESSION_CHANGE: ExampleChangeName = 'loosened-validation-change';

/**
 * Two steps instead of the demo's three: the rollouts here only have to be real, what is measured is the
 * evals. Same gate and thresholds as the demo (≥ 20 canary requests per probe at 50% of 100 req/s).
 */
export const DRIFT_PLAN: RolloutPlanInput = { ...DEMO_PLAN, steps: [{ setWeight: 50 }, { setWeight: 100 }] };

/**
 * A change that adds one test to test/greeting.test.ts, as a patch against the repository's main as it is now
 * (each baseline train merges, so the next one is made on top of it).
 */
export async function baselineChange(repo: string, name: string, id: string): Promise<ChangeRequest> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-drift-'));
  try {
    await git(scratch, ['clone', '--quiet', '--branch', 'main', repo, '.']);
    const file = path.join(scratch, 'test', 'greeting.test.ts');
    const literal = JSON.stringify(name);
    const added = `\ntest(${JSON.stringify(`greets ${name}`)}, () => {\n  assert.deepEqual(greet(${literal}), { ok: true, greeting: { name: ${literal}, message: ${JSON.stringify(`Hello, ${name}!`)} } });\n});\n`;
    await fs.appendFile(file, added);
    const diff = (await git(scratch, ['diff'])).stdout;
    return parseChangeRequest({
      id,
      title: `Test that the greeter greets ${name}`,
      intent: `Cover one more real name the greeter must accept: ${name}.`,
      repo,
      baseBranch: 'main',
      service: DEMO_SERVICE,
      environment: 'dev',
      author: 'demo@maestro.localhost',
      tags: ['area:greeter'],
      change: { kind: 'patch', diff },
      rollout: DRIFT_PLAN,
    });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

interface Step {
  label: string;
  expect: TrainResult['outcome'];
  make: (repo: string, id: string) => Promise<ChangeRequest>;
}

/** The trains: `baseline` healthy ones, then `regressed` of the regression (defaults: the analyzer's minimum). */
export function driftSteps(baseline = defaultDegradationOptions.minBaseline, regressed = defaultDegradationOptions.window): Step[] {
  if (baseline > BASELINE_NAMES.length) throw new Error(`at most ${BASELINE_NAMES.length} baseline changes, asked for ${baseline}`);
  return [
    ...BASELINE_NAMES.slice(0, baseline).map((name, i): Step => ({ label: `baseline ${i + 1}/${baseline}: greets ${name}`, expect: 'promoted', make: (repo, id) => baselineChange(repo, name, id) })),
    ...Array.from({ length: regressed }, (_, i): Step => ({
      label: `regression ${i + 1}/${regressed}: ${REGRESSION_CHANGE}`,
      expect: 'denied',
      make: async (repo, id) => ({ ...loadExampleChange(REGRESSION_CHANGE, repo, id), rollout: DRIFT_PLAN }) as ChangeRequest,
    })),
  ];
}

export async function runEvalDrift(print: (line: string) => void, counts: { baseline?: number; regressed?: number } = {}): Promise<number> {
  const steps = driftSteps(counts.baseline, counts.regressed);
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const { runId, repo, deployer } = await startDemoStable(print, 60 * 60_000);
  print(`\n${steps.length} trains: ${steps.filter((s) => s.expect === 'promoted').length} baseline, then ${steps.filter((s) => s.expect === 'denied').length} with the regression`);
  const client = await connectClient();
  const rows: string[] = [];
  let allAsExpected = true;
  try {
    for (const [i, step] of steps.entries()) {
      const cr = await step.make(repo, `drift-${String(i + 1).padStart(2, '0')}-${runId}`);
      const trainStart = Date.now();
      const handle = await startTrain(client, cr as never);
      print(`\n▶ [${i + 1}/${steps.length}, ${elapsed()}] ${step.label}\n  train ${handle.workflowId}  ${workflowUiLink(handle.workflowId)}`);
      let lastStage = '';
      const result = await waitForTrain(client, handle.workflowId, (line) => {
        // One line per stage: the rollout's probe lines are the demo's story, not this one's.
        const stage = /stage (\S+)/.exec(line)?.[1] ?? line;
        if (stage !== lastStage) print(`  ${new Date().toISOString().slice(11, 19)} ${line}`);
        lastStage = stage;
      });
      const seconds = ((Date.now() - trainStart) / 1000).toFixed(1);
      const ok = result.outcome === step.expect;
      allAsExpected &&= ok;
      print(`  ⇒ ${result.outcome} in ${seconds} s, Eval Score ${result.evalScore?.toFixed(3) ?? '–'}${ok ? '' : ` (expected ${step.expect}): ${result.reason}`}`);
      rows.push(`| ${i + 1} | ${step.label} | ${result.outcome}${ok ? '' : ` (expected ${step.expect})`} | ${result.evalScore?.toFixed(3) ?? '–'} | ${seconds} s |`);
    }
  } finally {
    await deployer.stopTraffic({ service: DEMO_SERVICE });
    await client.connection.close();
  }
  print('\n| # | change | outcome | Eval Score | train time |\n|---|---|---|---|---|');
  rows.forEach((r) => print(r));
  print(`\n${steps.length} trains in ${elapsed()}${allAsExpected ? '' : '; some did not end as expected'}. Next: bin/maestro analyze (scripts/demo-eval-drift.sh runs it twice).`);
  return allAsExpected ? 0 : 1;
}
