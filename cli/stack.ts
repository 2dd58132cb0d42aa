import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { defaultDevServer, startDevServer, stopDevServer } from '../infra/temporal/dev-server';
import { LocalDeployer } from '../delivery/local-deployer';
import { isGroupAlive, stopProcessGroup } from '../io/process';
import { migrate } from '../record/migrate';
import { ensurePostgres, redactUrl, stopPostgres } from '../infra/postgres/server';
import { TSX_CLI } from '../io/paths';
import { PROJECT_ROOT, STATE } from '../io/paths';

const RUN_DIR = STATE.run;
const WORKER_PID = path.join(RUN_DIR, 'worker.pid');
const WORKER_LOG = path.join(RUN_DIR, 'worker.log');
const DEPLOY_DIR = STATE.deploy;


function runningWorkerPid(): number | undefined {
  if (!fs.existsSync(WORKER_PID)) return undefined;
  const pid = Number(fs.readFileSync(WORKER_PID, 'utf8'));
  // The recorded pid leads the worker's process group (a tsx launcher and the node process that polls).
  return isGroupAlive(pid) ? pid : undefined;
}

/** Starts the record (PostgreSQL, migrated), the dev server and one worker, all detached; reuses what runs. */
export async function up(print: (line: string) => void): Promise<void> {
  const postgres = await ensurePostgres();
  const { applied } = await migrate(postgres.url);
  print(`record: PostgreSQL ${postgres.started ? 'started' : 'already running'} at ${redactUrl(postgres.url)}${applied.length ? `, migrations applied: ${applied.join(', ')}` : ''}`);
  const server = await startDevServer();
  print(server.reused ? `Temporal: already running on 127.0.0.1:${defaultDevServer.port}` : `Temporal: dev server started on 127.0.0.1:${defaultDevServer.port} (SQLite ${defaultDevServer.dbFile})`);
  print(`Web UI: http://127.0.0.1:${defaultDevServer.uiPort}`);
  const existing = runningWorkerPid();
  if (existing) {
    print(`worker: already running (pid ${existing})`);
    return;
  }
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const logStart = fs.existsSync(WORKER_LOG) ? fs.statSync(WORKER_LOG).size : 0;
  const log = fs.openSync(WORKER_LOG, 'a');
  const worker = spawn(process.execPath, [TSX_CLI, path.join(PROJECT_ROOT, 'workers/main.ts')], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  worker.unref();
  fs.closeSync(log);
  fs.writeFileSync(WORKER_PID, String(worker.pid));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const output = fs.readFileSync(WORKER_LOG, 'utf8').slice(logStart);
    if (output.includes('maestro worker: polling')) {
      print(`worker: started (pid ${worker.pid}, log ${WORKER_LOG})`);
      return;
    }
    if (!isGroupAlive(worker.pid!)) throw new Error(`the worker exited during start-up:\n${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the worker did not start polling within 60 s; see ${WORKER_LOG}`);
}

/** Stops the deployed services (proxy, versions, traffic), the worker and the dev server that `up` started. */
export async function down(print: (line: string) => void): Promise<void> {
  const deployer = new LocalDeployer({ stateDir: DEPLOY_DIR, tsxCli: TSX_CLI });
  for (const service of fs.existsSync(DEPLOY_DIR) ? fs.readdirSync(DEPLOY_DIR) : []) {
    if (!(await deployer.hasService(service))) continue;
    const { stoppedPids } = await deployer.stopService({ service });
    print(`service ${service}: stopped ${stoppedPids.length} processes`);
  }
  const pid = runningWorkerPid();
  if (pid) {
    await stopProcessGroup(pid, 10_000);
    if (isGroupAlive(pid)) throw new Error(`the worker's process group ${pid} is still running after SIGTERM and SIGKILL`);
    print(`worker: stopped (process group ${pid})`);
  }
  fs.rmSync(WORKER_PID, { force: true });
  print((await stopDevServer()) ? 'Temporal: stopped' : 'Temporal: not started by this project');
  print((await stopPostgres()) ? 'record: PostgreSQL stopped' : 'record: no PostgreSQL of this project was running');
}
