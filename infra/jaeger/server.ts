/**
 * The tracing backend: Jaeger (v2, all-in-one), built from the Go module proxy by scripts/setup-jaeger.sh,
 * run on loopback with in-memory storage (infra/jaeger/config.yaml). OTLP/HTTP in on `otlpPort`
 * (what MAESTRO_OTLP_ENDPOINT points at), the query HTTP API and UI on `queryPort`; the gRPC twins of
 * both listen one port below. `ensureJaeger()` reuses a Jaeger already answering on the query port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, STATE } from '../../io/paths';
import { isPortOpen, stopByPidFile } from '../../io/process';
import { startDetachedServer } from '../detached-server';

export interface JaegerOptions {
  otlpPort: number;
  queryPort: number;
  /** Where the pid and log files go. */
  runDir: string;
  binary: string;
}

export const defaultJaeger: JaegerOptions = {
  otlpPort: Number(process.env.MAESTRO_JAEGER_OTLP_PORT ?? 4318),
  queryPort: Number(process.env.MAESTRO_JAEGER_QUERY_PORT ?? 16686),
  runDir: path.join(STATE.run, 'jaeger'),
  binary: process.env.MAESTRO_JAEGER_BIN ?? path.join(PROJECT_ROOT, '.maestro', 'jaeger'),
};

export const CONFIG_FILE = path.join(__dirname, 'config.yaml');

/** What a client of this Jaeger sets: MAESTRO_OTLP_ENDPOINT and MAESTRO_TRACE_UI. */
export function jaegerUrls(opts: Pick<JaegerOptions, 'otlpPort' | 'queryPort'>): { otlpEndpoint: string; queryUrl: string } {
  return { otlpEndpoint: `http://127.0.0.1:${opts.otlpPort}`, queryUrl: `http://127.0.0.1:${opts.queryPort}` };
}

const pidFile = (opts: JaegerOptions) => path.join(opts.runDir, `jaeger-${opts.queryPort}.pid`);
const logFile = (opts: JaegerOptions) => path.join(opts.runDir, `jaeger-${opts.queryPort}.log`);

/** Ready means the query API answers and the OTLP receiver listens. */
async function isReady(opts: JaegerOptions): Promise<boolean> {
  try {
    const res = await fetch(`${jaegerUrls(opts).queryUrl}/api/services`, { signal: AbortSignal.timeout(2_000) });
    return res.ok && (await isPortOpen(opts.otlpPort));
  } catch {
    return false;
  }
}

/** Starts Jaeger detached (it outlives this process) unless one already answers on the query port. */
export async function ensureJaeger(opts: JaegerOptions = defaultJaeger, timeoutMs = 60_000): Promise<{ pid?: number; reused: boolean; otlpEndpoint: string; queryUrl: string }> {
  const urls = jaegerUrls(opts);
  if (await isReady(opts)) return { reused: true, ...urls };
  if (!fs.existsSync(opts.binary)) throw new Error(`Jaeger is not built at ${opts.binary}: run 'bash scripts/setup-jaeger.sh' (builds it from the Go module proxy), or set MAESTRO_JAEGER_BIN`);
  for (const port of [opts.otlpPort, opts.otlpPort - 1, opts.queryPort - 1])
    if (await isPortOpen(port)) throw new Error(`port ${port} is taken by another process: Jaeger needs ${opts.otlpPort - 1}-${opts.otlpPort} and ${opts.queryPort - 1}-${opts.queryPort}; choose others with MAESTRO_JAEGER_OTLP_PORT / MAESTRO_JAEGER_QUERY_PORT`);
  const pid = await startDetachedServer({
    name: 'Jaeger',
    command: opts.binary,
    args: ['--config', CONFIG_FILE],
    env: {
      ...process.env,
      MAESTRO_JAEGER_OTLP_PORT: String(opts.otlpPort),
      MAESTRO_JAEGER_OTLP_GRPC_PORT: String(opts.otlpPort - 1),
      MAESTRO_JAEGER_QUERY_PORT: String(opts.queryPort),
      MAESTRO_JAEGER_QUERY_GRPC_PORT: String(opts.queryPort - 1),
    },
    logFile: logFile(opts),
    pidFile: pidFile(opts),
    address: `query 127.0.0.1:${opts.queryPort}, OTLP 127.0.0.1:${opts.otlpPort}`,
    isReady: () => isReady(opts),
    timeoutMs,
  });
  return { pid, reused: false, ...urls };
}

/** Stops the Jaeger this project started on those ports (by pid file). */
export async function stopJaeger(opts: JaegerOptions = defaultJaeger, timeoutMs = 20_000): Promise<boolean> {
  return stopByPidFile(pidFile(opts), opts.queryPort, timeoutMs);
}
