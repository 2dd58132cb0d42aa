/**
 * Mutual exclusion for work on one thing (a service's processes, a git repository's index): queued
 * in this process, and a lock directory (mkdir is atomic) across processes. A lock whose owner died
 * is taken over, so a kill -9 never leaves it held.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from './process';

const queues = new Map<string, Promise<unknown>>();

/** Runs `operation` while holding the lock `lockDir`; waits at most `timeoutMs` to get it. */
export async function withLock<T>(lockDir: string, timeoutMs: number, operation: () => Promise<T>): Promise<T> {
  const key = path.resolve(lockDir);
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const release = await acquireDirLock(key, timeoutMs);
    try {
      return await operation();
    } finally {
      await release();
    }
  });
  queues.set(key, run);
  try {
    return await run;
  } finally {
    if (queues.get(key) === run) queues.delete(key);
  }
}

/** Lock directory (mkdir is atomic) holding the owner's pid; a lock whose owner died is taken over. */
async function acquireDirLock(lockDir: string, timeoutMs: number): Promise<() => Promise<void>> {
  await fs.mkdir(path.dirname(lockDir), { recursive: true });
  const ownerFile = path.join(lockDir, 'owner');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      await fs.writeFile(ownerFile, String(process.pid));
      return () => fs.rm(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(await fs.readFile(ownerFile, 'utf8').catch(() => ''));
    const ageMs = await fs.stat(lockDir).then((s) => Date.now() - s.mtimeMs, () => 0);
    // Owner gone, or an owner file never written (crash between mkdir and write) for a while.
    if ((owner > 0 && owner !== process.pid && !isProcessAlive(owner)) || (!owner && ageMs > 5000)) {
      await fs.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`lock ${lockDir} is held by pid ${owner || '?'} for more than ${timeoutMs} ms`);
    await sleep(25);
  }
}
