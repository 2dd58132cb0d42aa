/**
 * One commit of a service's repository run as a process: extracted from git (`git archive`, never a
 * checkout, so the repository's own work tree is untouched) into `<versionsDir>/<sha>`, with the
 * repository's node_modules linked in, and started as `node <tsx> <entry>` detached into its own process
 * group. The local deployer runs its versions so, and the local cluster's node (infra/kubernetes/local-node.ts)
 * runs its Pods' images so, in place of a container runtime.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, promises as fs, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnGit } from './git';
import { linkNodeModules } from './worktree';

/**
 * `<versionsDir>/<sha>` holding the commit's files (made once: extracted into a temporary folder renamed
 * into place, so a half extraction is never reused), with the repository's node_modules linked in.
 */
export async function extractCommit(repo: string, sha: string, versionsDir: string): Promise<string> {
  const dir = path.join(versionsDir, sha);
  if (!existsSync(dir)) {
    await fs.mkdir(versionsDir, { recursive: true });
    const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.mkdir(tmp);
    try {
      await gitArchiveInto(repo, sha, tmp);
      await fs.rename(tmp, dir);
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true });
      if (!existsSync(dir)) throw err;
    }
  }
  await linkNodeModules(repo, dir);
  return dir;
}

export interface DetachedNodeProcess {
  /** Absolute path to tsx's cli.mjs: the process is `node <tsxCli> <args>`. */
  tsxCli: string;
  args: string[];
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** On top of this process's environment. */
  env: Record<string, string>;
}

/** `node <tsxCli> <args>`, detached into its own process group (its pid is the group's id), output appended to logFile. */
export function spawnDetachedNode(options: DetachedNodeProcess): number {
  const out = openSync(options.logFile, 'a');
  try {
    const child = spawn(process.execPath, [options.tsxCli, ...options.args], {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...options.env },
    });
    child.on('error', () => undefined); // reported through the log and the liveness checks
    child.unref();
    if (child.pid === undefined) throw new Error(`could not spawn ${process.execPath} ${options.tsxCli} ${options.args.join(' ')}`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** The last `bytes` of a log file, for error messages; '(no log)' when there is none. */
export function readLogTail(file: string, bytes = 2000): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size, bytes));
      readSync(fd, buffer, 0, buffer.length, Math.max(0, size - bytes));
      return buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '(no log)';
  }
}

function gitArchiveInto(repo: string, sha: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = spawnGit(repo, ['archive', '--format=tar', sha]);
    archive.stdin.end();
    const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let errors = '';
    archive.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    tar.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    archive.stdout.pipe(tar.stdin);
    let pending = 2;
    let failed = false;
    const done = (name: string) => (code: number | null) => {
      if (code !== 0) failed = true;
      if (code !== 0 && !errors) errors = `${name} exited with ${code}`;
      if (--pending === 0) (failed ? reject(new Error(`extracting ${sha.slice(0, 12)} failed: ${errors.trim()}`)) : resolve());
    };
    archive.on('error', reject);
    tar.on('error', reject);
    archive.on('close', done('git archive'));
    tar.on('close', done('tar'));
  });
}
