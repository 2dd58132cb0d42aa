/**
 * The embedded Neo4j: Neo4j 5.26 Community run by infra/neo4j/Neo4jLauncher.java with a Bolt
 * connector on 127.0.0.1, auth disabled, data under .maestro/neo4j/home. `ensureNeo4j()` reuses a
 * server already answering on the port, installs (scripts/setup-neo4j.sh) when needed, and otherwise
 * starts one detached (it outlives this process, like the Temporal dev server) and waits for Bolt.
 * MAESTRO_NEO4J_URI points at any other Neo4j instead (nothing is started then).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import neo4j from 'neo4j-driver';
import { PROJECT_ROOT, STATE } from '../../io/paths';
import { isPortOpen, isProcessAlive, stopByPidFile } from '../../io/process';
import { logTail, startDetachedServer } from '../detached-server';

export const NEO4J_DIR = process.env.MAESTRO_NEO4J_DIR ?? STATE.neo4j;
export const DEFAULT_NEO4J_PORT = Number(process.env.MAESTRO_NEO4J_PORT ?? 7687);

export interface Neo4jHandle {
  uri: string;
  /** True when this call started the server (false: reused one, or MAESTRO_NEO4J_URI). */
  started: boolean;
  /** Stops the server if this call started it; a reused server is left running. */
  stop(): Promise<void>;
}

export interface EnsureNeo4jOptions {
  port?: number;
  dir?: string;
  timeoutMs?: number;
  /** JVM heap, e.g. '512m'. */
  heap?: string;
}


/** True when a Bolt server answers a query at `uri`. */
export async function boltAnswers(uri: string): Promise<boolean> {
  const driver = neo4j.driver(uri, undefined, { connectionTimeout: 2000, maxConnectionPoolSize: 1 });
  try {
    await driver.executeQuery('RETURN 1');
    return true;
  } catch {
    return false;
  } finally {
    await driver.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pidFile = (dir: string, port: number) => path.join(dir, `neo4j-${port}.pid`);
const logFile = (dir: string, port: number) => path.join(dir, `neo4j-${port}.log`);

function installed(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'classes/Neo4jLauncher.class')) && fs.existsSync(path.join(dir, 'lib'));
}

function runSetup(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(PROJECT_ROOT, 'scripts/setup-neo4j.sh')], { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`scripts/setup-neo4j.sh failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}


/** Reuses or starts the embedded Neo4j; rejects with the log tail when it does not come up. */
export async function ensureNeo4j(options: EnsureNeo4jOptions = {}): Promise<Neo4jHandle> {
  if (process.env.MAESTRO_NEO4J_URI) {
    const uri = process.env.MAESTRO_NEO4J_URI;
    return { uri, started: false, stop: async () => {} };
  }
  const port = options.port ?? DEFAULT_NEO4J_PORT;
  const dir = options.dir ?? NEO4J_DIR;
  const uri = `bolt://127.0.0.1:${port}`;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const reused: Neo4jHandle = { uri, started: false, stop: async () => {} };
  if ((await isPortOpen(port)) && (await boltAnswers(uri))) return reused;

  if (!installed(dir)) await runSetup();
  fs.mkdirSync(dir, { recursive: true });
  // One starter at a time (parallel jest workers): the others wait for its server.
  const lock = path.join(dir, `start-${port}.lock`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(lock, 'wx');
  } catch {
    const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (age > timeoutMs) {
      fs.rmSync(lock, { force: true });
      return ensureNeo4j(options);
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await isPortOpen(port)) && (await boltAnswers(uri))) return reused;
      if (!fs.existsSync(lock)) return ensureNeo4j(options);
      await sleep(300);
    }
    throw new Error(`Neo4j did not come up on ${uri} within ${timeoutMs} ms (another process holds ${lock}). Log tail:\n${logTail(logFile(dir, port))}`);
  }
  try {
    const stalePid = Number(fs.existsSync(pidFile(dir, port)) ? fs.readFileSync(pidFile(dir, port), 'utf8') : NaN);
    if (Number.isInteger(stalePid) && isProcessAlive(stalePid)) {
      // Our own server, still starting (or hung): give it the time before replacing it.
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && isProcessAlive(stalePid)) {
        if ((await isPortOpen(port)) && (await boltAnswers(uri))) return reused;
        await sleep(300);
      }
    }
    const classpath = [path.join(dir, 'classes'), path.join(dir, 'lib/*')].join(path.delimiter);
    await startDetachedServer({
      name: 'Neo4j',
      command: 'java',
      args: [`-Xmx${options.heap ?? '768m'}`, '-XX:+UseSerialGC', '-cp', classpath, 'Neo4jLauncher', path.join(dir, `home-${port}`), String(port)],
      cwd: dir,
      logFile: logFile(dir, port),
      pidFile: pidFile(dir, port),
      address: uri,
      isReady: async () => (await isPortOpen(port)) && (await boltAnswers(uri)),
      timeoutMs,
    });
    return { uri, started: true, stop: async () => void (await stopNeo4j({ port, dir })) };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
  }
}

/** Stops the server this project started on the port (by pid file) and waits for the port to close. */
export async function stopNeo4j(options: { port?: number; dir?: string; timeoutMs?: number } = {}): Promise<boolean> {
  const port = options.port ?? DEFAULT_NEO4J_PORT;
  const dir = options.dir ?? NEO4J_DIR;
  return stopByPidFile(pidFile(dir, port), port, options.timeoutMs ?? 30_000);
}
