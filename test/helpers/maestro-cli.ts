/** Runs the real bin/maestro with `env` on top of this process's, returning its exit code and output instead of throwing. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const MAESTRO = path.resolve(__dirname, '../../bin/maestro');
const run = promisify(execFile);

export async function runMaestro(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(MAESTRO, args, { env: { ...process.env, ...env }, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** bin/maestro against a record (MAESTRO_DATABASE_URL). */
export const maestroOn = (databaseUrl: string, args: string[]) => runMaestro(args, { MAESTRO_DATABASE_URL: databaseUrl });
