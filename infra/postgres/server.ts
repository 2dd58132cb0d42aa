/**
 * PostgreSQL from Debian, run by the project itself: data under .maestro/postgres, listening on a
 * loopback port only, trust auth for loopback (it is a local development and test server).
 *
 * `ensurePostgres()` reuses a server that is already up (ours, or the one DATABASE_URL/MAESTRO_DATABASE_URL
 * names), otherwise runs initdb once and pg_ctl start. Because PostgreSQL refuses to run as root, a root
 * caller runs the server binaries as the `postgres` user (runuser).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { STATE } from '../../io/paths';

const run = promisify(execFile);

export interface PostgresOptions {
  /** Directory holding data/, the log and the unix socket. */
  baseDir: string;
  port: number;
  /** The database the returned url points at (created when missing). */
  database: string;
  /** Directory with initdb, pg_ctl, postgres. */
  binDir: string;
}

export const defaultPostgres: PostgresOptions = {
  baseDir: process.env.MAESTRO_POSTGRES_DIR ?? STATE.postgres,
  port: Number(process.env.MAESTRO_POSTGRES_PORT ?? 54329),
  database: 'maestro',
  binDir: process.env.MAESTRO_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin',
};

export interface RunningPostgres {
  /** postgresql:// url of the project database. */
  url: string;
  /** True when this call started the server (stop() only stops a server it started). */
  started: boolean;
  stop(): Promise<void>;
}

export class PostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresError';
  }
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as the postgres user when we are root. */
async function pgBin(opts: PostgresOptions, bin: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const exe = path.join(opts.binDir, bin);
  if (!fs.existsSync(exe))
    throw new PostgresError(`PostgreSQL server binary ${exe} not found: run 'bash scripts/setup-postgres.sh' (installs the Debian package postgresql), or set MAESTRO_POSTGRES_BIN`);
  const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  try {
    const { stdout } = await run(file, argv, { timeout: timeoutMs, cwd: '/' });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new PostgresError(`${bin} ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

export function serverUrl(opts: PostgresOptions, database = opts.database): string {
  return `postgresql://postgres@127.0.0.1:${opts.port}/${database}`;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `database` unless it exists (concurrent callers may race: a duplicate is fine). */
export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) {
      try {
        await client.query(`create database "${database.replace(/"/g, '""')}"`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42P04' && (err as { code?: string }).code !== '23505') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/** A cross-process lock (mkdir is atomic) so two jest workers never initdb the same directory. */
async function withLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const lock = path.join(dir, '.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const stat = fs.statSync(lock, { throwIfNoEntry: false });
      if (stat && Date.now() - stat.mtimeMs > timeoutMs) fs.rmSync(lock, { recursive: true, force: true }); // left by a killed process
      if (Date.now() > deadline) throw new PostgresError(`timed out waiting for the lock ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Reuses a running server or starts ours; resolves once the project database accepts connections. */
export async function ensurePostgres(opts: PostgresOptions = defaultPostgres): Promise<RunningPostgres> {
  const external = process.env.MAESTRO_DATABASE_URL;
  if (external) {
    if (!(await canConnect(external))) throw new PostgresError(`MAESTRO_DATABASE_URL=${redactUrl(external)} does not accept connections`);
    return { url: external, started: false, stop: async () => undefined };
  }
  const adminUrl = serverUrl(opts, 'postgres');
  const url = serverUrl(opts);
  if (await canConnect(adminUrl)) {
    await createDatabaseIfMissing(adminUrl, opts.database);
    return { url, started: false, stop: async () => undefined };
  }
  fs.mkdirSync(opts.baseDir, { recursive: true });
  const started = await withLock(opts.baseDir, async () => {
    if (await canConnect(adminUrl)) return false; // another process started it while we waited
    await startServer(opts);
    return true;
  });
  await createDatabaseIfMissing(adminUrl, opts.database);
  return { url, started, stop: started ? () => stopPostgres(opts).then(() => undefined) : async () => undefined };
}

/**
 * Where the server's data, socket and log live: `baseDir`, unless we are root and the postgres user
 * cannot reach it (a checkout under a private directory, e.g. one made by mktemp -d); then a directory
 * of its own under the postgres user's home, named after baseDir so each checkout keeps its own data.
 */
export function serverDir(opts: PostgresOptions): string {
  if (!isRoot()) return opts.baseDir;
  fs.mkdirSync(opts.baseDir, { recursive: true });
  fs.chownSync(opts.baseDir, ...postgresIds());
  if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', opts.baseDir]).status === 0) return opts.baseDir;
  const home = path.join('/var/lib/postgresql/maestro', createHash('sha1').update(path.resolve(opts.baseDir)).digest('hex').slice(0, 12));
  fs.mkdirSync(home, { recursive: true });
  fs.chownSync(path.dirname(home), ...postgresIds());
  return home;
}

async function startServer(opts: PostgresOptions): Promise<void> {
  const dir = serverDir(opts);
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'run');
  const logFile = path.join(dir, 'server.log');
  fs.mkdirSync(socketDir, { recursive: true });
  if (isRoot()) {
    // the server runs as postgres: it owns the data, the socket directory and the log
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    for (const p of [dir, dataDir, socketDir]) fs.chownSync(p, ...postgresIds());
    if (!fs.existsSync(logFile)) fs.writeFileSync(logFile, '');
    fs.chownSync(logFile, ...postgresIds());
  }
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await pgBin(opts, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions']);
  }
  // A stale postmaster.pid from a killed server makes pg_ctl refuse to start; pg_ctl status tells.
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const status = await pgBin(opts, 'pg_ctl', ['status', '-D', dataDir]).catch(() => 'no server running');
    if (/no server running/.test(status)) fs.rmSync(pidFile, { force: true });
  }
  const serverOptions = [`-p ${opts.port}`, `-k ${socketDir}`, `-c listen_addresses=127.0.0.1`, '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200'].join(' ');
  try {
    await pgBin(opts, 'pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverOptions]);
  } catch (err) {
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    throw new PostgresError(`${(err as Error).message}\nlast lines of ${logFile}:\n${tail}`);
  }
}

let ids: [number, number] | undefined;
function postgresIds(): [number, number] {
  if (ids) return ids;
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new PostgresError("there is no 'postgres' user: run 'bash scripts/setup-postgres.sh' (installs the Debian package postgresql)");
  const [, , uid, gid] = line.split(':');
  ids = [Number(uid), Number(gid)];
  return ids;
}

/** Stops the server of `opts.baseDir` if it runs; false when there was none. */
export async function stopPostgres(opts: PostgresOptions = defaultPostgres): Promise<boolean> {
  const dataDir = path.join(serverDir(opts), 'data');
  if (!fs.existsSync(path.join(dataDir, 'postmaster.pid'))) return false;
  await pgBin(opts, 'pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
  return true;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
