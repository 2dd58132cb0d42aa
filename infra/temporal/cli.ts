/** `tsx infra/temporal/cli.ts start|stop`: the embedded Temporal dev server (Web UI on :8233). */
import { defaultDevServer, startDevServer, stopDevServer } from './dev-server';

async function main(command: string | undefined): Promise<void> {
  if (command === 'start') {
    const { reused, pid } = await startDevServer();
    console.log(reused ? `Temporal already listening on 127.0.0.1:${defaultDevServer.port}` : `Temporal dev server started (pid ${pid}) on 127.0.0.1:${defaultDevServer.port}, Web UI http://127.0.0.1:${defaultDevServer.uiPort}, data ${defaultDevServer.dbFile}`);
  } else if (command === 'stop') {
    console.log((await stopDevServer()) ? 'Temporal dev server stopped' : 'no dev server started by this project is running');
  } else {
    console.error("usage: tsx infra/temporal/cli.ts start|stop");
    process.exit(2);
  }
}

main(process.argv[2]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
