/** The one entry (bin/maestro): --help on every command, unknown commands and options, lazy loading. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { COMMANDS } from '../../../cli/main';
import { runMaestro } from '../../helpers/maestro-cli';

const run = promisify(execFile);
const maestro = (args: string[], nodeOptions = '') => runMaestro(args, { NODE_OPTIONS: nodeOptions }, 60_000);

describe('maestro (one entry)', () => {
  it('--help lists every command of the table', async () => {
    const r = await maestro(['--help']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it.each(Object.keys(COMMANDS))('%s --help prints its usage and exits 0', async (name) => {
    const command = await COMMANDS[name]!.load();
    expect(command.name).toBe(name);
    expect(command.usage).toMatch(new RegExp(`^usage: maestro ${name}\\b`));
  });

  it('every command answers --help from the real binary without loading Prisma or Neo4j', async () => {
    const hook = path.join(__dirname, 'no-prisma-hook.js');
    for (const name of Object.keys(COMMANDS)) {
      const r = await maestro([name, '--help'], `--require ${hook}`);
      expect({ name, code: r.code, stderr: r.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^usage: maestro ${name}\\b`));
    }
  }, 300_000);

  it('an unknown command exits 2 naming the allowed ones', async () => {
    const r = await maestro(['deploy']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'deploy'; allowed: init, up, down/);
  });

  it('an unknown option exits 2 with the message and the usage', async () => {
    const r = await maestro(['status', 'train-x', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^maestro status: Unknown option '--bogus'/);
    expect(r.stderr).toContain('usage: maestro status <train-id>');
  });

  it('graph hot-paths runs where Prisma and the Neo4j driver cannot be loaded', async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-cli-graph-'));
    try {
      fs.mkdirSync(path.join(repo, 'src'));
      fs.writeFileSync(path.join(repo, 'src/a.ts'), "import { b } from './b';\nexport const a = () => b();\n");
      fs.writeFileSync(path.join(repo, 'src/b.ts'), 'export function b() { return 1; }\n');
      const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
      await git('init', '-q');
      await git('add', '.');
      await git('commit', '-qm', 'init');
      const r = await maestro(['graph', 'hot-paths', repo], `--require ${path.join(__dirname, 'no-prisma-hook.js')}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/src\/a\.ts → src\/b\.ts/);
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  }, 120_000);
});
