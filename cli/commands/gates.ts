/** `maestro gates [change.json]`: the rollout plan and health gates a change request will run, in words, before it runs. */
import fs from 'node:fs';
import { describeHealthChecks, describePlan, describeRiskBands, parseRolloutPlan } from '../../core/rollout-plan';
import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'gates',
  usage: `usage: maestro gates [change.json]
  the rollout plan of a change request (its 'rollout'; without a file, the defaults) in words: every step and its
  gate, the risk bands when it has byRisk, the metric templates a PromQL health source runs, and the tripwire`,
  options: {},
  async run({ positionals }, io) {
    if (positionals.length > 1) throw new UsageError('takes at most one change file');
    let rollout: unknown;
    if (positionals[0] !== undefined) {
      try {
        rollout = (JSON.parse(fs.readFileSync(positionals[0], 'utf8')) as { rollout?: unknown }).rollout;
      } catch (err) {
        throw new UsageError(`cannot read change file ${positionals[0]}: ${(err as Error).message}`);
      }
    }
    const plan = parseRolloutPlan(rollout);
    io.print([`rollout plan${positionals[0] ? ` of ${positionals[0]}` : ' (the defaults)'}:`, describePlan(plan), describeRiskBands(plan), describeHealthChecks(plan)].join('\n'));
    return 0;
  },
});
