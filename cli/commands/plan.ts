/** `maestro plan <train-id> [--set FILE | --gates FILE]`: the rollout a train will run, an operator's override of it, and new gates for it while it runs. */
import fs from 'node:fs';
import os from 'node:os';
import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'plan',
  usage: `usage: maestro plan <train-id> [--set plan.json | --gates gates.json] [--by NAME --reason TEXT]
  without --set: the rollout plan the train will run (or runs) and where it comes from
    (the change request, the band its risk score falls in, or an operator's override)
  --set FILE      replace it with this rollout plan (JSON, the change request's 'rollout' shape);
                  accepted until the rollout starts, recorded with who and why
  --gates FILE    new gates for the running rollout (JSON: any of gate, thresholds, judge (null: off),
                  metrics); the current step's analysis starts again under them and every earlier
                  verdict is marked superseded; recorded with who and why
  --by NAME       who overrides it (default: $MAESTRO_OPERATOR, else user@host)
  --reason TEXT   why`,
  options: { set: { type: 'string' }, gates: { type: 'string' }, by: { type: 'string' }, reason: { type: 'string' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('needs exactly one <train-id>');
    const id = positionals[0]!;
    const [{ connectClient }, release] = await Promise.all([import('../client'), import('../release')]);
    const client = await connectClient();
    if (values.set !== undefined && values.gates !== undefined) throw new UsageError('give --set (before the rollout) or --gates (while it runs), not both');
    const by = values.by ?? process.env.MAESTRO_OPERATOR ?? `${os.userInfo().username}@${os.hostname()}`;
    const reason = values.reason ? { reason: values.reason } : {};
    if (values.gates !== undefined) {
      const outcome = await release.changeTrainGates(client, id, { by, gates: readJson('--gates', values.gates), ...reason });
      io.print(outcome);
      return outcome.startsWith('refused') ? 1 : 0;
    }
    if (values.set === undefined) {
      const status = await release.queryStatus(client, id);
      io.print(status.plannedRollout ? `${status.plannedRollout.source}\n${status.plannedRollout.description}` : `train ${id} has no plan yet (stage ${status.stage}): the plan is known once its risk is assessed`);
      return 0;
    }
    const outcome = await release.overrideTrainPlan(client, id, { by, plan: readJson('--set', values.set), ...reason });
    io.print(outcome);
    return outcome.startsWith('refused') ? 1 : 0;
  },
});

function readJson(option: string, file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${option} ${file}: ${(err as Error).message}`);
  }
}
