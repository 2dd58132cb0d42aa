/** `maestro serve`: the dashboard (dashboard/server.ts) on loopback until SIGINT/SIGTERM. */
import { defineCommand, portOption } from '../command';
import { openRecord } from '../record';

export const DASHBOARD_PORT = 8240;

export const command = defineCommand({
  name: 'serve',
  usage: `usage: maestro serve [--port N]
  the dashboard on http://127.0.0.1:${DASHBOARD_PORT}: trains with a live timeline while they run, why each ended,
  the Eval Score, KPIs with their trends, spend by author and service; JSON under /api/. Reads the record
  (MAESTRO_DATABASE_URL or the project's PostgreSQL) and, for live trains, Temporal (TEMPORAL_ADDRESS); a train's
  trace at /trains/<id>/trace from the OTLP JSON files of MAESTRO_OTLP_ENDPOINT=file:///dir, or from Jaeger
  (MAESTRO_TRACE_UI) when the endpoint is Jaeger's`,
  options: { port: { type: 'string' } },
  async run({ values }, io) {
    const port = portOption('port', values.port, DASHBOARD_PORT);
    const [{ createDashboard, listenDashboard }, { tryConnectClient }, { liveTrain, trainTrace }, { traceSourceFor }, { otlpEndpointFromEnv }, { record, close }] = await Promise.all([
      import('../../dashboard/server'),
      import('../client'),
      import('../release'),
      import('../../io/trace-sources'),
      import('../../io/tracing'),
      openRecord(),
    ]);
    const client = await tryConnectClient();
    const traces = traceSourceFor(otlpEndpointFromEnv(), process.env.MAESTRO_TRACE_UI);
    // A train's trace id is in its memo (Temporal); its spans are in the files or Jaeger.
    const trace =
      client && traces
        ? async (trainId: string) => {
            const found = await trainTrace(client, trainId).catch(() => undefined);
            return found ? { traceId: found.traceId, source: traces.name, spans: await traces.read(found.traceId) } : undefined;
          }
        : undefined;
    const app = createDashboard({ record, ...(client ? { liveTrain: (trainId: string) => liveTrain(client, trainId) } : {}), ...(trace ? { trace } : {}) });
    const url = await listenDashboard(app, port);
    io.print(`dashboard: ${url}${client ? '' : ' (Temporal not reachable: no live status for running trains)'}`);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
    });
    await app.close();
    await close();
    await client?.connection.close();
    return 0;
  },
});
