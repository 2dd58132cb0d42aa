/** `maestro evals …` (USAGE below). Exit 2 is bad usage or invalid scenarios; `run` exits 1 also on a real drop vs --baseline or a robustness regression. */
import * as path from 'node:path';
import { ScenarioError, type Scenario } from '../../evals/dsl';
import { formatCoverage, loadRegistry, DEFAULT_SCENARIOS_DIR } from '../../evals/registry';
import { writeArtifacts, type RunArtifacts } from '../../evals/report';
import { robustnessFrom } from '../../evals/robustness';
import { PERTURBATION_KINDS } from '../../evals/perturbations';
import { DEFAULT_ARTIFACTS_DIR, runScenarios, type RunResult } from '../../evals/runner';
import { detectDrop } from '../../evals/scoring';
import { defineCommand, UsageError } from '../command';

const USAGE = `usage: maestro evals <list|validate|coverage|run> [options]
  list      [--scenarios DIR]       scenarios (latest versions), tags, hold-out flag
  validate  [--scenarios DIR]       exit 2 with file:line:col errors when a file is invalid
  coverage  [--scenarios DIR]       exit 1 when an agent prompt has < 3 tuning scenarios
  run       --repo PATH --candidate SHA [--base SHA] [--scenario ID]… [--tag TAG]… [--scenarios DIR]
            [--artifacts DIR] [--concurrency N] [--repeats N] [--no-cache] [--robustness] [--baseline SHA]
            exit 0 when the Eval Score passes, else 1`;

const SUBCOMMANDS = ['list', 'validate', 'coverage', 'run'];

export const command = defineCommand({
  name: 'evals',
  usage: USAGE,
  options: {
    scenarios: { type: 'string' },
    repo: { type: 'string' },
    candidate: { type: 'string' },
    base: { type: 'string' },
    baseline: { type: 'string' },
    scenario: { type: 'string', multiple: true },
    tag: { type: 'string', multiple: true },
    artifacts: { type: 'string' },
    concurrency: { type: 'string' },
    repeats: { type: 'string' },
    'no-cache': { type: 'boolean' },
    robustness: { type: 'boolean' },
    'work-root': { type: 'string' },
  },
  async run({ values, positionals }, io) {
    const [sub, ...extra] = positionals;
    if (!sub || !SUBCOMMANDS.includes(sub)) throw new UsageError(sub ? `unknown subcommand '${sub}'; allowed: ${SUBCOMMANDS.join(', ')}` : `missing subcommand (${SUBCOMMANDS.join(', ')})`);
    if (extra.length) throw new UsageError(`unexpected argument ${extra.join(' ')}`);
    if (sub === 'run' && (!values.repo || !values.candidate)) throw new UsageError('run needs --repo and --candidate');
    const dir = path.resolve((values.scenarios as string | undefined) ?? DEFAULT_SCENARIOS_DIR);
    let registry;
    try {
      registry = await loadRegistry(dir);
    } catch (error) {
      if (error instanceof ScenarioError) {
        io.print(`invalid scenarios in ${dir}:`);
        for (const line of error.message.split('\n')) io.print(`  ${line}`);
        return 2;
      }
      throw error;
    }
    switch (sub) {
      case 'validate':
        io.print(`${registry.all().length} scenario version(s) in ${dir} are valid`);
        return 0;
      case 'list':
        for (const s of registry.latest()) {
          const versions = registry.all().filter((v) => v.name === s.name).map((v) => `v${v.version}`);
          io.print(`${s.id.padEnd(36)} ${s.holdout ? '[hold-out] ' : ''}${s.title}  (versions ${versions.join(', ')}; tags ${s.tags.join(', ') || '-'}; checks ${s.checks.map((c) => c.name ?? c.type).join(', ')})`);
        }
        return 0;
      case 'coverage': {
        const report = registry.coverage();
        formatCoverage(report).forEach((l) => io.print(l));
        return report.ok ? 0 : 1;
      }
      case 'run': {
        const int = (name: 'concurrency' | 'repeats'): number | undefined => {
          const v = values[name] as string | undefined;
          if (v === undefined) return undefined;
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
          return n;
        };
        let scenarios: Scenario[];
        let concurrency: number | undefined;
        let repeats: number | undefined;
        try {
          concurrency = int('concurrency');
          repeats = int('repeats');
          const picked = (values.scenario as string[] | undefined)?.map((ref) => registry.get(ref));
          scenarios = picked ?? registry.latest();
          const tags = values.tag as string[] | undefined;
          if (tags?.length) scenarios = scenarios.filter((s) => tags.some((t) => s.tags.includes(t)));
        } catch (error) {
          io.print((error as Error).message);
          return 2;
        }
        if (!scenarios.length) {
          io.print('no scenario selected');
          return 2;
        }
        const artifactsDir = path.resolve((values.artifacts as string | undefined) ?? DEFAULT_ARTIFACTS_DIR);
        const common = {
          repo: path.resolve(values.repo as string),
          scenarios,
          concurrency,
          repeats,
          cacheDir: values['no-cache'] ? null : path.join(artifactsDir, 'cache'),
          workRoot: values['work-root'] as string | undefined,
          onScenario: (s: RunResult['scenarios'][number]) =>
            io.print(`  ${s.skipped ? 'skip' : s.passed ? 'pass' : 'FAIL'} ${s.id}${s.perturbation ? ` [${s.perturbation}]` : ''} ${s.skipped ?? s.score.toFixed(3)}${s.cached ? ' (cached)' : ''}`),
        };
        const run = await runScenarios({ ...common, candidate: values.candidate as string, base: values.base as string | undefined });
        const artifacts: RunArtifacts = { run };
        if (values.baseline) {
          const baseline = await runScenarios({ ...common, candidate: values.baseline as string, onScenario: undefined });
          const perScenario = run.scenarios.map((s) => ({
            id: s.id,
            basePassed: baseline.scenarios.find((b) => b.id === s.id && !b.skipped)?.repeats.map((r) => r.passed) ?? [],
            candidatePassed: s.repeats.map((r) => r.passed),
          }));
          artifacts.drop = { ...detectDrop(baseline.tuning, run.tuning, perScenario), baseScore: baseline.tuning.score };
        }
        if (values.robustness) {
          const perturbed: RunResult[] = [];
          for (const kind of PERTURBATION_KINDS)
            perturbed.push(await runScenarios({ ...common, candidate: values.candidate as string, base: values.base as string | undefined, perturbation: { kind, seed: 1 } }));
          const { runs: _runs, ...robustness } = robustnessFrom(run, perturbed);
          artifacts.robustness = robustness;
        }
        const files = await writeArtifacts(artifactsDir, artifacts);
        io.print(`Eval Score ${(run.tuning.score * 100).toFixed(1)}% (95% CI ${(run.tuning.ci.low * 100).toFixed(1)}–${(run.tuning.ci.high * 100).toFixed(1)}%, threshold ${(run.threshold * 100).toFixed(0)}%) ${run.tuning.passed ? 'PASS' : 'FAIL'}`);
        if (run.holdout) io.print(`hold-out ${(run.holdout.score * 100).toFixed(1)}% over ${run.holdout.count} scenario(s); generalisation gap ${(run.holdout.gap * 100).toFixed(1)} pts`);
        if (artifacts.drop) io.print(artifacts.drop.real ? `REAL DROP vs baseline: ${artifacts.drop.delta.toFixed(3)} (${artifacts.drop.rule})` : `no real drop vs baseline (Δ ${artifacts.drop.delta.toFixed(3)})`);
        if (artifacts.robustness) io.print(`robustness p95 Δ ${(artifacts.robustness.p95Delta * 100).toFixed(1)}% (target ≤ ${artifacts.robustness.target * 100}%)${artifacts.robustness.regression ? ' REGRESSION' : ''}`);
        io.print(`cache: ${run.cache.hits} hit(s), ${run.cache.misses} miss(es)`);
        io.print(`artifacts: ${files.json}, ${files.tile}, ${files.badge}`);
        const ok = run.tuning.passed && !artifacts.drop?.real && !artifacts.robustness?.regression;
        return ok ? 0 : 1;
      }
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  },
});
