/**
 * Runs the traffic generator as its own process (the local deployer starts it detached via tsx).
 *
 *   tsx delivery/traffic-main.ts --url http://127.0.0.1:PORT --rps 50 --duration-ms 60000
 *       [--concurrency 8] [--path /] [--path /items]
 *
 * Exits by itself when the duration is over; SIGTERM stops it early. Prints its totals as JSON.
 */
import { parseArgs } from 'node:util';
import { runTraffic } from './traffic';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      rps: { type: 'string', default: '20' },
      'duration-ms': { type: 'string', default: '60000' },
      concurrency: { type: 'string', default: '8' },
      path: { type: 'string', multiple: true },
    },
    strict: true,
  });
  if (!values.url) throw new Error('--url is required');
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  process.on('SIGINT', () => abort.abort());
  const stats = await runTraffic(
    {
      url: values.url,
      rps: Number(values.rps),
      durationMs: Number(values['duration-ms']),
      concurrency: Number(values.concurrency),
      paths: values.path && values.path.length > 0 ? values.path : undefined,
    },
    abort.signal,
  );
  process.stdout.write(`maestro traffic done ${JSON.stringify(stats)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`maestro traffic failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
