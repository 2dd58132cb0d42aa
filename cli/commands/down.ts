import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'down',
  usage: `usage: maestro down
  stop the deployed services, the worker, the dev server and PostgreSQL that 'maestro up' started`,
  options: {},
  async run({ positionals }, io) {
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(' ')}`);
    const { down } = await import('../stack');
    await down(io.print);
    return 0;
  },
});
