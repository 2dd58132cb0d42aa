import fs from 'node:fs';
import net from 'node:net';
import { isProcessAlive } from '../delivery/local-deployer';

/** Liveness of a pid (zombies count as dead): the local deployer's check, shared by the launchers. */
export { isProcessAlive };

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
