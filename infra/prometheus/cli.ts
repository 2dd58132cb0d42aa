/** `tsx infra/prometheus/cli.ts start|stop|url`: the project's Prometheus (config and data under .maestro/prometheus). */
import { runServerCli } from '../detached-server';
import { defaultPrometheus, ensurePrometheus, prometheusUrl, stopPrometheus } from './server';

runServerCli('infra/prometheus/cli.ts', {
  start: async () => {
    const started = Date.now();
    const prometheus = await ensurePrometheus();
    return `${prometheus.started ? `Prometheus started in ${Date.now() - started} ms` : 'Prometheus already running'}: ${prometheus.url} (scraping ${defaultPrometheus.targetsDir}/*.json)`;
  },
  stop: async () => ((await stopPrometheus()) ? 'Prometheus stopped' : 'no Prometheus of this project is running'),
  url: async () => prometheusUrl(defaultPrometheus),
});
