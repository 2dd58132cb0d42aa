import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'demo',
  usage: `usage: maestro demo
  start what 'maestro up' starts, then release a denied, a good, a bad and a table-changing (migrated) change of examples/ end to end`,
  options: {},
  async run({ positionals }, io) {
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(' ')}`);
    const { runDemo } = await import('../demo');
    return runDemo(io.print);
  },
});
