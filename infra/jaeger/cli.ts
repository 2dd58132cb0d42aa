/** `tsx infra/jaeger/cli.ts start|stop`: the tracing backend (Jaeger, in memory; UI and query API on the query port). */
import { runServerCli } from '../detached-server';
import { defaultJaeger, ensureJaeger, stopJaeger } from './server';

runServerCli(
  'infra/jaeger/cli.ts',
  {
    start: async () => {
      const jaeger = await ensureJaeger();
      return [
        `${jaeger.reused ? 'Jaeger already running' : `Jaeger started (pid ${jaeger.pid})`}: OTLP ${jaeger.otlpEndpoint}, UI and query API ${jaeger.queryUrl}`,
        `trace with: export MAESTRO_OTLP_ENDPOINT=${jaeger.otlpEndpoint} MAESTRO_TRACE_UI=${jaeger.queryUrl}`,
      ].join('\n');
    },
    stop: async () => ((await stopJaeger()) ? 'Jaeger stopped' : `no Jaeger started by this project runs on port ${defaultJaeger.queryPort}`),
  },
  'ports: MAESTRO_JAEGER_OTLP_PORT, MAESTRO_JAEGER_QUERY_PORT',
);
