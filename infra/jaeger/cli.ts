/** `tsx infra/jaeger/cli.ts start|stop`: the tracing backend (Jaeger, in memory; UI and query API on the query port). */
import { defaultJaeger, ensureJaeger, stopJaeger } from './server';

async function main(command: string | undefined): Promise<void> {
  if (command === 'start') {
    const jaeger = await ensureJaeger();
    console.log(`${jaeger.reused ? 'Jaeger already running' : `Jaeger started (pid ${jaeger.pid})`}: OTLP ${jaeger.otlpEndpoint}, UI and query API ${jaeger.queryUrl}`);
    console.log(`trace with: export MAESTRO_OTLP_ENDPOINT=${jaeger.otlpEndpoint} MAESTRO_TRACE_UI=${jaeger.queryUrl}`);
  } else if (command === 'stop') {
    console.log((await stopJaeger()) ? 'Jaeger stopped' : `no Jaeger started by this project runs on port ${defaultJaeger.queryPort}`);
  } else {
    console.error('usage: tsx infra/jaeger/cli.ts start|stop   (ports: MAESTRO_JAEGER_OTLP_PORT, MAESTRO_JAEGER_QUERY_PORT)');
    process.exit(2);
  }
}

main(process.argv[2]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
