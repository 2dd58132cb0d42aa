import net from 'node:net';

/** Liveness of a pid (zombies count as dead); the local deployer's check, shared by the launchers. */
export { isProcessAlive } from '../activities/delivery/local-deployer';

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
