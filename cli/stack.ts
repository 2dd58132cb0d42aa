import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CODEC_PORT, defaultDevServer, startDevServer, stopDevServer } from '../infra/temporal/dev-server';
import { LocalDeployer } from '../delivery/local-deployer';
import { isGroupAlive, stopProcessGroup } from '../io/process';
import { migrate } from '../record/migrate';
import { ensurePostgres, redactUrl, stopPostgres } from '../infra/postgres/server';
import { ensurePrometheus, stopPrometheus } from '../infra/prometheus/server';
import { ensureKubernetes, stopKubernetes } from '../infra/kubernetes/server';
import { TSX_CLI } from '../io/paths';
import { PROJECT_ROOT, STATE } from '../io/paths';

const RUN_DIR = STATE.run;
const DEPLOY_DIR = STATE.deploy;

/** A detached process of the stack: its pid file leads its process group (a tsx launcher and the node process). */
interface StackProcess {
  name: string;
  pidFile: string;
  log: string;
  args: string[];
  /** The line it prints once it serves. */
  ready: string;
}
const WORKER: StackProcess = {
  name: 'worker',
  pidFile: path.join(RUN_DIR, 'worker.pid'),
  log: path.join(RUN_DIR, 'worker.log'),
  args: [path.join(PROJECT_ROOT, 'workers/main.ts')],
  ready: 'maestro worker: polling',
};
/** The Web UI's codec endpoint (infra/temporal/codec-server.ts), with the worker's keys. */
const CODEC: StackProcess = {
  name: 'codec endpoint',
  pidFile: path.join(RUN_DIR, 'codec.pid'),
  log: path.join(RUN_DIR, 'codec.log'),
  args: [path.join(PROJECT_ROOT, 'cli/main.ts'), 'codec', 'serve', '--port', String(DEFAULT_CODEC_PORT), '--ui-port', String(defaultDevServer.uiPort)],
  ready: 'codec endpoint: listening',
};

function runningPid(p: StackProcess): number | undefined {
  if (!fs.existsSync(p.pidFile)) return undefined;
  const pid = Number(fs.readFileSync(p.pidFile, 'utf8'));
  return isGroupAlive(pid) ? pid : undefined;
}

/** Starts `p` detached unless it runs; waits until it prints its ready line. */
async function ensureRunning(p: StackProcess, print: (line: string) => void): Promise<void> {
  const existing = runningPid(p);
  if (existing) {
    print(`${p.name}: already running (pid ${existing})`);
    return;
  }
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const logStart = fs.existsSync(p.log) ? fs.statSync(p.log).size : 0;
  const log = fs.openSync(p.log, 'a');
  // The worker polls the dev server `up` started (its port may be MAESTRO_TEMPORAL_PORT), unless TEMPORAL_ADDRESS names another.
  const env = { TEMPORAL_ADDRESS: `127.0.0.1:${defaultDevServer.port}`, ...process.env };
  const child = spawn(process.execPath, [TSX_CLI, ...p.args], { detached: true, stdio: ['ignore', log, log], env });
  child.unref();
  fs.closeSync(log);
  fs.writeFileSync(p.pidFile, String(child.pid));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const output = fs.readFileSync(p.log, 'utf8').slice(logStart);
    if (output.includes(p.ready)) {
      print(`${p.name}: started (pid ${child.pid}, log ${p.log})`);
      return;
    }
    if (!isGroupAlive(child.pid!)) throw new Error(`the ${p.name} exited during start-up:\n${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the ${p.name} did not start within 60 s; see ${p.log}`);
}

async function stop(p: StackProcess, print: (line: string) => void): Promise<void> {
  const pid = runningPid(p);
  if (pid) {
    await stopProcessGroup(pid, 10_000);
    if (isGroupAlive(pid)) throw new Error(`the ${p.name}'s process group ${pid} is still running after SIGTERM and SIGKILL`);
    print(`${p.name}: stopped (process group ${pid})`);
  }
  fs.rmSync(p.pidFile, { force: true });
}

/**
 * Starts the record (PostgreSQL, migrated), Prometheus (scraping the deployed services; the gates read it
 * when MAESTRO_HEALTH_SOURCE=prometheus), the codec endpoint, the dev server and one worker, all detached;
 * reuses what runs.
 */
export async function up(print: (line: string) => void, options: { kubernetes?: boolean } = {}): Promise<void> {
  const postgres = await ensurePostgres();
  const { applied } = await migrate(postgres.url);
  print(`record: PostgreSQL ${postgres.started ? 'started' : 'already running'} at ${redactUrl(postgres.url)}${applied.length ? `, migrations applied: ${applied.join(', ')}` : ''}`);
  const prometheusStart = Date.now();
  const prometheus = await ensurePrometheus();
  print(`metrics: Prometheus ${prometheus.started ? `started in ${Date.now() - prometheusStart} ms` : 'already running'} at ${prometheus.url}`);
  if (options.kubernetes) {
    const k8sStart = Date.now();
    const k8s = await ensureKubernetes();
    print(`Kubernetes: ${k8s.reused ? 'already running' : `started in ${Date.now() - k8sStart} ms`} at ${k8s.url} (kubeconfig ${k8s.kubeconfig}; CRDs ${k8s.crds.join(', ')})`);
  }
  await ensureRunning(CODEC, print);
  const server = await startDevServer();
  print(server.reused ? `Temporal: already running on 127.0.0.1:${defaultDevServer.port}` : `Temporal: dev server started on 127.0.0.1:${defaultDevServer.port} (SQLite ${defaultDevServer.dbFile})`);
  print(`Web UI: http://127.0.0.1:${defaultDevServer.uiPort} (payloads decrypted through ${defaultDevServer.codecEndpoint}${server.reused ? ' if the running server was started by maestro up' : ''})`);
  await ensureRunning(WORKER, print);
}

/** Stops the deployed services (proxy, versions, traffic), the worker, the codec endpoint and the dev server that `up` started. */
export async function down(print: (line: string) => void): Promise<void> {
  const deployer = new LocalDeployer({ stateDir: DEPLOY_DIR, tsxCli: TSX_CLI });
  for (const service of fs.existsSync(DEPLOY_DIR) ? fs.readdirSync(DEPLOY_DIR) : []) {
    if (!(await deployer.hasService(service))) continue;
    const { stoppedPids } = await deployer.stopService({ service });
    print(`service ${service}: stopped ${stoppedPids.length} processes`);
  }
  await stop(WORKER, print);
  await stop(CODEC, print);
  print((await stopDevServer()) ? 'Temporal: stopped' : 'Temporal: not started by this project');
  print((await stopKubernetes()) ? 'Kubernetes: stopped' : 'Kubernetes: not started by this project');
  print((await stopPrometheus()) ? 'metrics: Prometheus stopped' : 'metrics: no Prometheus of this project was running');
  print((await stopPostgres()) ? 'record: PostgreSQL stopped' : 'record: no PostgreSQL of this project was running');
}
