import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive, isPortOpen, stopByPidFile } from '../../../io/process';
import { ServerStartError, startDetachedServer } from '../../../infra/detached-server';

describe('startDetachedServer (real processes)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detached-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const files = () => ({ logFile: path.join(dir, 'server.log'), pidFile: path.join(dir, 'server.pid') });

  it('resolves with the pid once the server answers, and the pid file stops it', async () => {
    const port = 7391;
    const pid = await startDetachedServer({
      name: 'a test server',
      command: process.execPath,
      args: ['-e', `require('node:http').createServer((_, res) => res.end('ok')).listen(${port}, '127.0.0.1')`],
      ...files(),
      address: `127.0.0.1:${port}`,
      isReady: () => isPortOpen(port),
      timeoutMs: 10_000,
    });
    expect(isProcessAlive(pid)).toBe(true);
    expect(fs.readFileSync(files().pidFile, 'utf8')).toBe(String(pid));
    expect(await stopByPidFile(files().pidFile, port, 10_000)).toBe(true);
    expect(await isPortOpen(port)).toBe(false);
  });

  it('reports a server that exits during start-up with its exit code and the log of this start only', async () => {
    fs.writeFileSync(files().logFile, 'a line from an earlier run\n');
    const start = startDetachedServer({
      name: 'a crashing server',
      command: 'sh',
      args: ['-c', 'echo "config line 3: unknown key"; exit 3'],
      ...files(),
      address: '127.0.0.1:1',
      isReady: async () => false,
      timeoutMs: 10_000,
    });
    await expect(start).rejects.toThrow(ServerStartError);
    await expect(start).rejects.toThrow(/a crashing server did not start on 127.0.0.1:1 \(it exited with code 3\)[\s\S]*config line 3: unknown key/);
    await expect(start).rejects.not.toThrow(/earlier run/);
    expect(fs.existsSync(files().pidFile)).toBe(false);
  });

  it('stops a server that never answers within the timeout', async () => {
    const error = await startDetachedServer({
      name: 'a hung server',
      command: 'sh',
      args: ['-c', 'echo $$ > "$0"; echo waiting; sleep 60', path.join(dir, 'child.pid')],
      ...files(),
      address: '127.0.0.1:2',
      isReady: async () => false,
      timeoutMs: 3_000,
    }).catch((err: Error) => err);
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toMatch(/a hung server did not start on 127.0.0.1:2 within 3000 ms[\s\S]*waiting/);
    const pid = Number(fs.readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('names a command that cannot be run', async () => {
    await expect(
      startDetachedServer({ name: 'a missing server', command: path.join(dir, 'no-such-binary'), args: [], ...files(), address: 'x', isReady: async () => false, timeoutMs: 1_000 }),
    ).rejects.toThrow(/a missing server/);
  });
});
