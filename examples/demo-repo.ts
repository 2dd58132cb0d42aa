/**
 * Turns examples/greeter-service (or another example project) into a fresh git repository for the demo and the tests, and loads the
 * example change requests with their placeholders (`repo`, `id`) filled in.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseChangeRequest, type ChangeRequest } from '../core/change-request';
import { git } from '../io/git';
import type { RolloutPlanInput } from '../core/rollout-plan';

export const GREETER_SERVICE_DIR = path.join(__dirname, 'greeter-service');
export const EXAMPLE_CHANGES_DIR = path.join(__dirname, 'changes');
/** The example change files carry this in `repo`; loadExampleChange replaces it. */
export const REPO_PLACEHOLDER = '/REPLACED_AT_DEMO_TIME';

export type ExampleChangeName = 'good-change' | 'bad-change' | 'failing-tests-change' | 'weak-tests-change' | 'strengthened-tests-change' | 'split-name-change' | 'loosened-validation-change';

// The demo commit is a person's (the example changes' author), not Maestro's; local -c flags so the
// demo works on machines without a global git identity and does not change it.
const DEMO_GIT_CONFIG = [
  '-c', 'user.name=Maestro Demo',
  '-c', 'user.email=demo@maestro.localhost',
  '-c', 'commit.gpgsign=false',
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'init.defaultBranch=main',
];

const runGit = async (cwd: string, args: string[]): Promise<string> => (await git(cwd, [...DEMO_GIT_CONFIG, ...args])).stdout.trim();

/**
 * Copies the greeter service into `targetDir` (created; must be empty if it exists) and commits it on `main`.
 * Its `node_modules` (ignored by git) links Maestro's, in place of an `npm install` (createFixtureRepo): the
 * deployer gives every version the repository's node_modules.
 */
export function createDemoRepo(targetDir: string): Promise<{ repo: string; baseSha: string }> {
  return createFixtureRepo(targetDir, GREETER_SERVICE_DIR, 'greeter-service: initial import');
}

/** Copies the project in `sourceDir` into `targetDir` (created; must be empty if it exists) and commits it on `main`. */
export async function createFixtureRepo(targetDir: string, sourceDir: string, message: string): Promise<{ repo: string; baseSha: string }> {
  await fs.mkdir(targetDir, { recursive: true });
  if ((await fs.readdir(targetDir)).length > 0) throw new Error(`createFixtureRepo: ${targetDir} is not empty`);
  await fs.cp(sourceDir, targetDir, {
    recursive: true,
    filter: (source) => !['node_modules', 'dist', '.git'].includes(path.basename(source)),
  });
  const repo = await fs.realpath(targetDir);
  await linkProjectPackages(sourceDir, repo);
  await runGit(repo, ['init', '--quiet', '--initial-branch=main']);
  await runGit(repo, ['add', '--all']);
  await runGit(repo, ['commit', '--quiet', '-m', message]);
  return { repo, baseSha: await runGit(repo, ['rev-parse', 'HEAD']) };
}

/**
 * A fixture with dependencies (the greeter's prom-client and pg) gets them as an installed checkout would: its
 * node_modules is the project's, where package.json pins the same versions (and .gitignore keeps it out of commits).
 */
async function linkProjectPackages(sourceDir: string, repo: string): Promise<void> {
  const manifest = JSON.parse(await fs.readFile(path.join(sourceDir, 'package.json'), 'utf8').catch(() => '{}')) as { dependencies?: Record<string, string> };
  if (Object.keys(manifest.dependencies ?? {}).length > 0) await fs.symlink(PROJECT_NODE_MODULES, path.join(repo, 'node_modules'), 'dir');
}
const PROJECT_NODE_MODULES = path.join(__dirname, '..', 'node_modules');

/** Reads examples/changes/<name>.json, fills in `repo` and `id`, and validates it as a change request. */
export function loadExampleChange(name: ExampleChangeName | string, repo: string, id: string): ChangeRequest {
  const file = path.join(EXAMPLE_CHANGES_DIR, name.endsWith('.json') ? name : `${name}.json`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return parseChangeRequest({ ...raw, repo, id });
}

export const DEMO_SERVICE = 'greeter';
export const DEMO_TRAFFIC_RPS = 100;
/** The demo's gates: short enough to watch, long enough to judge (≥ 20 canary requests per probe at 10%). */
export const DEMO_PLAN: RolloutPlanInput = {
  steps: [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }],
  gate: { probeInterval: '2s', consecutiveGreen: 3, maxRed: 2, timeout: '1m' },
  thresholds: { maxP95LatencyMs: 300, maxErrorRate: 0.01, minEvalScore: 0.85, minRequests: 20 },
};
