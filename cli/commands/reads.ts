/** `maestro reads <train-id> old|new`: the dual-write guard's flag on the train's database migration. */
import os from 'node:os';
import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'reads',
  usage: `usage: maestro reads <train-id> old|new [--by NAME] [--reason TEXT]
  switch which shape the new version of the train's database migration reads, at once:
  old  its views compute the new columns from the old ones (the new shape is suspect; writes still work)
  new  its views read the new columns again
  only between expand and contract; the outcome is in the migration's history (maestro status, the dashboard)
  --by NAME       who switches it (default: $MAESTRO_OPERATOR, else user@host)
  --reason TEXT   why, recorded with it`,
  options: { by: { type: 'string' }, reason: { type: 'string' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 2) throw new UsageError('needs <train-id> and old|new');
    const [id, from] = positionals as [string, string];
    if (from !== 'old' && from !== 'new') throw new UsageError(`'${from}' is not a shape: say old or new`);
    const by = values.by ?? process.env.MAESTRO_OPERATOR ?? `${os.userInfo().username}@${os.hostname()}`;
    const [{ connectClient }, { switchMigrationReads }] = await Promise.all([import('../client'), import('../release')]);
    const client = await connectClient();
    const outcome = await switchMigrationReads(client, id, { from, by, ...(values.reason ? { reason: values.reason } : {}) });
    io.print(outcome);
    return outcome.startsWith('refused') ? 1 : 0;
  },
});
