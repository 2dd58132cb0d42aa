/** `tsx infra/temporal/cli.ts start|stop`: the embedded Temporal dev server (Web UI on :8233). */
import { runServerCli } from '../detached-server';
import { defaultDevServer, startDevServer, stopDevServer } from './dev-server';

runServerCli('infra/temporal/cli.ts', {
  start: async () => {
    const { reused, pid } = await startDevServer();
    return reused
      ? `Temporal already listening on 127.0.0.1:${defaultDevServer.port}`
      : `Temporal dev server started (pid ${pid}) on 127.0.0.1:${defaultDevServer.port}, Web UI http://127.0.0.1:${defaultDevServer.uiPort}, data ${defaultDevServer.dbFile}`;
  },
  stop: async () => ((await stopDevServer()) ? 'Temporal dev server stopped' : 'no dev server started by this project is running'),
});
