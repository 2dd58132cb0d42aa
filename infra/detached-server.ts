/**
 * How the project starts each of its servers (Temporal, Neo4j, Prometheus, Jaeger, …): spawned detached
 * into its own process group so it outlives the caller, output appended to a log file, its pid in a pid
 * file (what `stop` reads), then polled until it answers. A server that exits or never answers is
 * reported with the tail of its log, and one still running after the timeout is stopped.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopProcessGroup } from '../io/process';

export interface DetachedServerSpec {
  /** How errors name it, e.g. 'Prometheus'. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  pidFile: string;
  /** Where it should answer, for errors (e.g. '127.0.0.1:9090'). */
  address: string;
  /** True once the server serves requests (not merely listens). */
  isReady(): Promise<boolean>;
  timeoutMs: number;
}

export class ServerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerStartError';
  }
}

/** Each start appends this line to the log, so a failure shows only its own start's output. */
const START_MARK = '--- maestro: starting ';

/** The last lines of a log file since the last start, or '(no log)'. */
export function logTail(file: string, lines = 15): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return '(no log)';
  }
  const sinceStart = text.slice(text.lastIndexOf(START_MARK) + 1);
  const tail = sinceStart.slice(sinceStart.indexOf('\n') + 1).trimEnd();
  return tail ? tail.split('\n').slice(-lines).join('\n') : '(nothing logged)';
}

/** Starts the server and resolves with its pid once `isReady()`; rejects with the log tail otherwise. */
export async function startDetachedServer(spec: DetachedServerSpec): Promise<number> {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  fs.mkdirSync(path.dirname(spec.pidFile), { recursive: true });
  const log = fs.openSync(spec.logFile, 'a');
  fs.writeSync(log, `${START_MARK}${spec.command} ${spec.args.join(' ')} at ${new Date().toISOString()} ---\n`);
  const child = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', log, log], env: spec.env ?? process.env, cwd: spec.cwd });
  fs.closeSync(log);
  child.unref();
  let exitCode: number | null = null;
  let spawnError: Error | undefined;
  child.once('exit', (code, signal) => (exitCode = code ?? (signal ? 128 : -1)));
  child.once('error', (err) => (spawnError = err));
  const pid = child.pid;
  if (pid === undefined) {
    await sleep(0); // the 'error' event carries the reason
    throw new ServerStartError(`could not start ${spec.name} (${spec.command}): ${spawnError?.message ?? 'no pid'}`);
  }
  fs.writeFileSync(spec.pidFile, String(pid));
  const deadline = Date.now() + spec.timeoutMs;
  while (exitCode === null && Date.now() < deadline) {
    if (await spec.isReady()) return pid;
    await sleep(100);
  }
  const why = exitCode === null ? `within ${spec.timeoutMs} ms` : `(it exited with code ${exitCode})`;
  if (exitCode === null) await stopProcessGroup(pid, 5_000);
  fs.rmSync(spec.pidFile, { force: true });
  throw new ServerStartError(`${spec.name} did not start on ${spec.address} ${why}. Last lines of ${spec.logFile}:\n${logTail(spec.logFile)}`);
}

/**
 * The shape of every `tsx infra/<server>/cli.ts <command>`: runs the named command, prints what it
 * returns, and turns a failure into its message and exit code 1 (a usage line and 2 for an unknown command).
 */
export function runServerCli(script: string, commands: Record<string, () => Promise<string>>, usageNote = ''): void {
  const command = process.argv[2];
  const run = command !== undefined && Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!run) {
    console.error(`usage: tsx ${script} ${Object.keys(commands).join('|')}${usageNote ? `   (${usageNote})` : ''}`);
    process.exit(2);
  }
  run().then(
    (output) => console.log(output),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
