/**
 * Prometheus from Debian (scripts/setup-prometheus.sh), run by the project itself: its own config and
 * data under .maestro/prometheus, listening on loopback only. It scrapes whatever the local deployer
 * lists in its scrape-targets directory (file-based service discovery: each service's proxy and versions).
 *
 * `ensurePrometheus()` reuses a server that already answers on the port with the same targets directory,
 * otherwise writes the config and starts one, detached into its own process group (pid file next to it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { STATE } from '../../io/paths';
import { stopByPidFile } from '../../io/process';
import { startDetachedServer } from '../detached-server';

export interface PrometheusOptions {
  /** Holds prometheus.yml, data/, the log and the pid file. */
  baseDir: string;
  port: number;
  /** Directory of file_sd target files (`<service>.json`), written by the local deployer. */
  targetsDir: string;
  /** How often every target is scraped; gates read at most this fresh a figure. */
  scrapeIntervalMs: number;
  binary: string;
}

export const defaultPrometheus: PrometheusOptions = {
  baseDir: process.env.MAESTRO_PROMETHEUS_DIR ?? path.join(STATE.root, 'prometheus'),
  port: Number(process.env.MAESTRO_PROMETHEUS_PORT ?? 9090),
  targetsDir: path.join(STATE.deploy, 'scrape-targets'),
  scrapeIntervalMs: 1000,
  binary: process.env.MAESTRO_PROMETHEUS_BIN ?? '/usr/bin/prometheus',
};

export interface RunningPrometheus {
  url: string;
  /** True when this call started it (stop() only stops a server it started). */
  started: boolean;
  stop(): Promise<void>;
}

export class PrometheusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusError';
  }
}

export const prometheusUrl = (opts: Pick<PrometheusOptions, 'port'>) => `http://127.0.0.1:${opts.port}`;
const pidFile = (opts: PrometheusOptions) => path.join(opts.baseDir, 'prometheus.pid');

/** The config: one job over the deployer's target files, re-read as they change. */
export function prometheusConfig(opts: PrometheusOptions): string {
  const interval = `${opts.scrapeIntervalMs}ms`;
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    '  - job_name: maestro',
    '    file_sd_configs:',
    `      - files: [${JSON.stringify(path.join(opts.targetsDir, '*.json'))}]`,
    '        refresh_interval: 1s',
    '',
  ].join('\n');
}

/** The config file the server answering on the port was started with, or undefined when none answers. */
async function runningConfig(opts: PrometheusOptions): Promise<string | undefined> {
  try {
    const res = await fetch(`${prometheusUrl(opts)}/api/v1/status/config`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return undefined;
    return ((await res.json()) as { data: { yaml: string } }).data.yaml;
  } catch {
    return undefined;
  }
}

async function isReady(opts: PrometheusOptions): Promise<boolean> {
  try {
    return (await fetch(`${prometheusUrl(opts)}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** Reuses our running server or starts one; resolves once it is ready to answer queries. */
export async function ensurePrometheus(opts: PrometheusOptions = defaultPrometheus): Promise<RunningPrometheus> {
  const url = prometheusUrl(opts);
  const running = await runningConfig(opts);
  if (running !== undefined) {
    if (!running.includes(opts.targetsDir))
      throw new PrometheusError(`a Prometheus on port ${opts.port} scrapes other targets (not ${opts.targetsDir}): stop it, or set MAESTRO_PROMETHEUS_PORT to a free port`);
    return { url, started: false, stop: async () => undefined };
  }
  if (!fs.existsSync(opts.binary))
    throw new PrometheusError(`Prometheus binary ${opts.binary} not found: run 'bash scripts/setup-prometheus.sh' (installs the Debian package prometheus), or set MAESTRO_PROMETHEUS_BIN`);
  fs.mkdirSync(path.join(opts.baseDir, 'data'), { recursive: true });
  fs.mkdirSync(opts.targetsDir, { recursive: true });
  const configFile = path.join(opts.baseDir, 'prometheus.yml');
  fs.writeFileSync(configFile, prometheusConfig(opts));
  await startDetachedServer({
    name: 'Prometheus',
    command: opts.binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(opts.baseDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${opts.port}`,
      // Gates need hours at most; a short retention keeps the data dir small.
      '--storage.tsdb.retention.time=1d',
    ],
    logFile: path.join(opts.baseDir, 'prometheus.log'),
    pidFile: pidFile(opts),
    address: url,
    isReady: () => isReady(opts),
    timeoutMs: 30_000,
  });
  return { url, started: true, stop: () => stopPrometheus(opts).then(() => undefined) };
}

/** Stops the server this project started in `opts.baseDir`; false when there was none. */
export async function stopPrometheus(opts: PrometheusOptions = defaultPrometheus): Promise<boolean> {
  return stopByPidFile(pidFile(opts), opts.port, 10_000);
}
