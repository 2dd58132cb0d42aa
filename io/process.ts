/**
 * Processes as their owners see them: a server or a service version is a process GROUP (the pid we
 * spawned detached leads it; the process that listens may be a child of a launcher), so liveness and
 * stopping are about the group, never the leader alone.
 */
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Alive and not a zombie (a zombie still answers kill(pid, 0)). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * True while any process of the group is alive and not a zombie: a group whose members have all
 * exited still answers kill(-pgid, 0) until their parents reap them.
 */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after "(comm)": state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** SIGTERM to the whole group (a launcher and the processes under it), SIGKILL if any of it lingers. */
export async function stopProcessGroup(pgid: number, timeoutMs: number): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pgid, signal);
    } catch {
      /* already gone */
    }
  };
  if (!isGroupAlive(pgid)) return;
  signalGroup('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isGroupAlive(pgid) && Date.now() < deadline) await sleep(25);
  if (!isGroupAlive(pgid)) return;
  signalGroup('SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (isGroupAlive(pgid) && Date.now() < killDeadline) await sleep(25);
}

/** True when something accepts TCP connections on host:port within the timeout. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Stops the process group recorded in a pid file (SIGTERM; the pid alone when it leads no group) and
 * waits until it is gone and the port it served is closed. False when there was no pid file.
 */
export async function stopByPidFile(file: string, port: number, timeoutMs: number): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  const pid = Number(fs.readFileSync(file, 'utf8'));
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (isProcessAlive(pid) || (await isPortOpen(port)))) await new Promise((r) => setTimeout(r, 200));
  fs.rmSync(file, { force: true });
  return true;
}
