/** `maestro plan <train-id> [--set FILE]`: the rollout a train will run, and an operator's override of it. */
import fs from 'node:fs';
import os from 'node:os';
import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'plan',
  usage: `usage: maestro plan <train-id> [--set plan.json --by NAME --reason TEXT]
  without --set: the rollout plan the train will run (or runs) and where it comes from
    (the change request, the band its risk score falls in, or an operator's override)
  --set FILE      replace it with this rollout plan (JSON, the change request's 'rollout' shape);
                  accepted until the rollout starts, recorded with who and why
  --by NAME       who overrides it (default: $MAESTRO_OPERATOR, else user@host)
  --reason TEXT   why`,
  options: { set: { type: 'string' }, by: { type: 'string' }, reason: { type: 'string' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('needs exactly one <train-id>');
    const id = positionals[0]!;
    const [{ connectClient }, release] = await Promise.all([import('../client'), import('../release')]);
    const client = await connectClient();
    if (values.set === undefined) {
      const status = await release.queryStatus(client, id);
      io.print(status.plannedRollout ? `${status.plannedRollout.source}\n${status.plannedRollout.description}` : `train ${id} has no plan yet (stage ${status.stage}): the plan is known once its risk is assessed`);
      return 0;
    }
    let plan: unknown;
    try {
      plan = JSON.parse(fs.readFileSync(values.set, 'utf8'));
    } catch (err) {
      throw new UsageError(`--set ${values.set}: ${(err as Error).message}`);
    }
    const by = values.by ?? process.env.MAESTRO_OPERATOR ?? `${os.userInfo().username}@${os.hostname()}`;
    const outcome = await release.overrideTrainPlan(client, id, { by, plan, ...(values.reason ? { reason: values.reason } : {}) });
    io.print(outcome);
    return outcome.startsWith('refused') ? 1 : 0;
  },
});
