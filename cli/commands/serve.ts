/** `maestro serve`: the dashboard (dashboard/server.ts) on loopback until SIGINT/SIGTERM. */
import { defineCommand, portOption } from '../command';
import { openRecord } from '../record';

export const DASHBOARD_PORT = 8240;

export const command = defineCommand({
  name: 'serve',
  usage: `usage: maestro serve [--port N]
  the dashboard on http://127.0.0.1:${DASHBOARD_PORT}: trains with a live timeline while they run, why each ended,
  the Eval Score, KPIs with their trends, spend by author and service; JSON under /api/. Reads the record
  (MAESTRO_DATABASE_URL or the project's PostgreSQL) and, for live trains, Temporal (TEMPORAL_ADDRESS)`,
  options: { port: { type: 'string' } },
  async run({ values }, io) {
    const port = portOption('port', values.port, DASHBOARD_PORT);
    const [{ createDashboard, listenDashboard }, { tryConnectClient }, { liveTrain }, { record, close }] = await Promise.all([
      import('../../dashboard/server'),
      import('../client'),
      import('../release'),
      openRecord(),
    ]);
    const client = await tryConnectClient();
    const app = createDashboard({ record, ...(client ? { liveTrain: (trainId: string) => liveTrain(client, trainId) } : {}) });
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
