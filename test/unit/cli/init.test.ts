/** `maestro init` on temp copies of the greeter example and of a third-party package (prompts), and its refusals. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../../cli/command';
import { command as init, INIT_FILES } from '../../../cli/commands/init';
import { parsePolicyYaml } from '../../../core/policy-rules';
import { serviceDescriptorSchema } from '../../../core/stages';
import { parseScenario } from '../../../evals/dsl';

const ROOT = path.resolve(__dirname, '../../..');
let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-init-'))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A git repository holding a copy of `from`. */
function repoFrom(name: string, from?: string): string {
  const dir = path.join(tmp, name);
  if (from) fs.cpSync(from, dir, { recursive: true, filter: (src) => !path.relative(from, src).split(path.sep).includes('node_modules') });
  else fs.mkdirSync(dir);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCommand(init, argv, { print: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

describe('maestro init', () => {
  it('writes a valid descriptor, scenario and policy for the greeter example (port from the source)', async () => {
    const dir = repoFrom('greeter', path.join(ROOT, 'examples/greeter-service'));
    fs.rmSync(path.join(dir, 'maestro.service.json'));
    const r = await run('--dir', dir);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('port 8080 (from the PORT default in the source)');
    expect(serviceDescriptorSchema.parse(JSON.parse(read(dir, INIT_FILES.service)))).toEqual({
      entry: 'src/server.ts',
      healthPath: '/healthz',
      test: ['{node}', '--import', 'tsx', '--test', 'test/greeting.test.ts', 'test/app.test.ts', 'test/people.test.ts'],
    });
    expect(parseScenario(read(dir, INIT_FILES.scenario)).id).toBe('starter.tests-green@v1');
    expect(parsePolicyYaml(read(dir, INIT_FILES.policy)).rules.length).toBeGreaterThan(0);
  });

  it('a third-party package (prompts): refuses without a port, then writes with --port and runs tests through npm', async () => {
    const dir = repoFrom('prompts', path.join(ROOT, 'node_modules/prompts'));
    const refused = await run('--dir', dir);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/cannot tell which port .* Pass --port N/);
    expect(fs.existsSync(path.join(dir, INIT_FILES.service))).toBe(false);
    const r = await run('--dir', dir, '--port', '3000');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/warning: lib\/index\.js does not read process\.env\.PORT/);
    expect(JSON.parse(read(dir, INIT_FILES.service))).toEqual({ entry: 'lib/index.js', healthPath: '/healthz', test: ['npm', 'test', '--silent'] });
  });

  it('never overwrites without --force', async () => {
    const dir = repoFrom('greeter-again', path.join(ROOT, 'examples/greeter-service'));
    const before = read(dir, INIT_FILES.service);
    const r = await run('--dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/maestro\.service\.json already exists .*nothing was written\. Pass --force/);
    expect(read(dir, INIT_FILES.service)).toBe(before);
    expect(fs.existsSync(path.join(dir, INIT_FILES.policy))).toBe(false);
    expect((await run('--dir', dir, '--force')).code).toBe(0);
  });

  it.each([
    ['no package.json', undefined, /no package\.json in .*Run it in the repository's root/],
    ['no test script', { scripts: { start: 'node index.js' } }, /no test script/],
    ['the npm placeholder test script', { scripts: { test: 'echo "Error: no test specified" && exit 1', start: 'node index.js' } }, /no test script/],
    ['no start script', { scripts: { test: 'node --test' } }, /no start script/],
    ['a start script without a source file', { scripts: { test: 'node --test', start: 'next start' } }, /cannot tell the entry file from the start script 'next start'/],
  ])('refuses with exit 2 when there is %s', async (name, pkg, message) => {
    const dir = repoFrom(name.replace(/\W+/g, '-'));
    if (pkg) fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    fs.writeFileSync(path.join(dir, 'index.js'), 'require("http").createServer().listen(process.env.PORT || 3000);\n');
    const r = await run('--dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(fs.readdirSync(dir).sort()).toEqual(['.git', 'index.js', ...(pkg ? ['package.json'] : [])].sort());
  });

  it('takes the port from the start script and rejects a bad --port', async () => {
    const dir = repoFrom('script-port');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ scripts: { test: 'node --test', start: 'PORT=4000 node server.js' } }));
    fs.writeFileSync(path.join(dir, 'server.js'), 'require("http").createServer().listen(process.env.PORT);\n');
    expect((await run('--dir', dir)).out).toContain('port 4000 (from the start script)');
    expect((await run('--dir', dir, '--force', '--port', 'http')).code).toBe(2);
  });
});
