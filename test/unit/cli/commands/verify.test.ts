/** `maestro verify` at its boundary: bad input is exit 2 naming what is wrong; an unreachable record is exit 3 saying how to start it. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAESTRO = path.resolve(__dirname, '../../../../bin/maestro');

async function verify(args: string[]): Promise<{ code: number; stderr: string }> {
  // Nothing listens on port 1: the record and Temporal are unreachable without waiting long.
  const env = { ...process.env, MAESTRO_DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/maestro', TEMPORAL_ADDRESS: '127.0.0.1:1' };
  try {
    await run(MAESTRO, ['verify', ...args], { env, timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

test('a service name that cannot exist, or an unknown environment, is exit 2 naming the problem', async () => {
  expect(await verify(['Bad_Name'])).toMatchObject({ code: 2, stderr: expect.stringContaining("'Bad_Name' is not a service name") });
  expect(await verify(['greeter', '--env', 'qa'])).toMatchObject({ code: 2, stderr: expect.stringContaining("--env must be one of dev, staging, prod; got 'qa'") });
}, 120_000);

test('an unreachable record is exit 3 with the URL and how to start it, not a stack trace', async () => {
  const r = await verify(['greeter']);
  expect(r.code).toBe(3);
  expect(r.stderr).toContain("the record (PostgreSQL at postgresql://postgres@127.0.0.1:1/maestro) is not reachable: start the stack with 'bin/maestro up'");
  expect(r.stderr).not.toContain('    at ');
}, 120_000);
