import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'up',
  usage: `usage: maestro up
  start (or reuse) PostgreSQL (migrated), the Temporal dev server (Web UI :8233) and one worker, detached`,
  options: {},
  async run({ positionals }, io) {
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(' ')}`);
    const { up } = await import('../stack');
    await up(io.print);
    return 0;
  },
});
