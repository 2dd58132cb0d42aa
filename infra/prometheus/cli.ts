/** `tsx infra/prometheus/cli.ts start|stop|url`: the project's Prometheus (config and data under .maestro/prometheus). */
import { defaultPrometheus, ensurePrometheus, prometheusUrl, stopPrometheus } from './server';

async function main(command: string | undefined): Promise<void> {
  if (command === 'start') {
    const started = Date.now();
    const prometheus = await ensurePrometheus();
    console.log(`${prometheus.started ? `Prometheus started in ${Date.now() - started} ms` : 'Prometheus already running'}: ${prometheus.url} (scraping ${defaultPrometheus.targetsDir}/*.json)`);
  } else if (command === 'stop') {
    console.log((await stopPrometheus()) ? 'Prometheus stopped' : 'no Prometheus of this project is running');
  } else if (command === 'url') {
    console.log(prometheusUrl(defaultPrometheus));
  } else {
    console.error('usage: tsx infra/prometheus/cli.ts start|stop|url');
    process.exit(2);
  }
}

main(process.argv[2]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
