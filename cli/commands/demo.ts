import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'demo',
  usage: `usage: maestro demo [--eval-drift [--baseline N] [--regressed N]]
  start what 'maestro up' starts, then release a denied, a good, a bad and a table-changing (migrated) change of examples/ end to end
  --eval-drift   instead: N baseline changes (default 8, the analyzer's minimum baseline) that pass the evals and are
                 promoted, then N trains (default 3, its window) of examples/changes/loosened-validation-change.json,
                 which the scenario greeter.validation@v1 fails: an Eval Score degradation for 'maestro analyze'
                 (scripts/demo-eval-drift.sh runs it, then the analyzer twice)`,
  options: { 'eval-drift': { type: 'boolean' }, baseline: { type: 'string' }, regressed: { type: 'string' } },
  async run({ positionals, values }, io) {
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(' ')}`);
    const count = (name: 'baseline' | 'regressed'): number | undefined => {
      const raw = values[name];
      if (raw === undefined) return undefined;
      if (!values['eval-drift']) throw new UsageError(`--${name} goes with --eval-drift`);
      if (!/^[1-9]\d*$/.test(raw)) throw new UsageError(`--${name} must be a positive whole number, got ${raw}`);
      return Number(raw);
    };
    const baseline = count('baseline');
    const regressed = count('regressed');
    if (values['eval-drift']) {
      const { runEvalDrift } = await import('../demo-eval-drift');
      return runEvalDrift(io.print, { ...(baseline ? { baseline } : {}), ...(regressed ? { regressed } : {}) });
    }
    const { runDemo } = await import('../demo');
    return runDemo(io.print);
  },
});
