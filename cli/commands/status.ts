import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'status',
  usage: `usage: maestro status <train-id>
  the train's stage, canary weight, eval score and risk, last probe and history, and its trace
  when it was started traced (exit 4: no such train)`,
  options: {},
  async run({ positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('needs exactly one <train-id>');
    const [{ connectClient }, { formatStatus, formatTrace, queryStatus, trainTrace }] = await Promise.all([import('../client'), import('../release')]);
    const client = await connectClient();
    io.print(formatStatus(await queryStatus(client, positionals[0]!)));
    const trace = await trainTrace(client, positionals[0]!);
    if (trace) io.print(formatTrace(trace));
    return 0;
  },
});
