/**
 * Runs the weighted proxy as a standalone process (the local deployer starts it detached via tsx).
 *
 *   tsx delivery/proxy-main.ts [--public-port N] [--admin-port N] [--stable URL]
 *       [--canary URL] [--weight N] [--ready-file PATH]
 *
 * Once both listeners are up it writes ProxyState as JSON to --ready-file (atomically) and stdout.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WeightedProxy } from './proxy';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'public-port': { type: 'string', default: '0' },
      'admin-port': { type: 'string', default: '0' },
      stable: { type: 'string' },
      canary: { type: 'string' },
      weight: { type: 'string' },
      'ready-file': { type: 'string' },
    },
    strict: true,
  });
  const proxy = new WeightedProxy({
    publicPort: Number(values['public-port']),
    adminPort: Number(values['admin-port']),
    stable: values.stable ?? null,
    canary: values.canary ?? null,
    weight: values.weight !== undefined ? Number(values.weight) : undefined,
  });
  const state = await proxy.start();
  const readyFile = values['ready-file'];
  if (readyFile) {
    const tmp = `${readyFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, readyFile);
  }
  process.stdout.write(`maestro proxy ready ${JSON.stringify(state)}\n`);

  const shutdown = (signal: string) => {
    process.stdout.write(`maestro proxy stopping on ${signal}\n`);
    void proxy.stop().finally(() => process.exit(0));
    // Open keep-alive sockets must not hold the process past its stop.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`maestro proxy failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
