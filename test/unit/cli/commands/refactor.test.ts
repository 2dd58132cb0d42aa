import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../../../../cli/command';
import { command as refactor } from '../../../../cli/commands/refactor';
const refactorCommand = (argv: string[], print: (line: string) => void) => runCommand(refactor, argv, { print, error: print });
import { createRepo, gitStatus, read } from '../../../helpers/refactor-fixture';

let tmp: string;
let repo: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-refactor-cli-'));
  repo = await createRepo(path.join(tmp, 'lib'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await refactorCommand(args, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

describe('maestro refactor apply', () => {
  it('--dry-run prints the unified diff and writes nothing; without it the change is written', async () => {
    const file = path.join(tmp, 'rename.json');
    await fs.writeFile(file, JSON.stringify([{ codemod: 'rename-method', class: 'Shape', from: 'area', to: 'surface' }, { codemod: 'replace-call', from: 'Math.pow($x, 2)', to: '$x ** 2' }]));
    const dry = await run(['apply', file, '--repo', repo, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('--- a/src/shapes/circle.ts\n+++ b/src/shapes/circle.ts');
    expect(dry.out).toContain('-  area(): number {\n+  surface(): number {');
    expect(dry.out).toContain('rename-method: would change 5 file(s)');
    expect(gitStatus(repo)).toBe('');
    const real = await run(['apply', file, '--repo', repo]);
    expect(real.out).toContain('replace-call: changed 2 file(s): src/shapes/circle.ts, src/shapes/square.ts');
    expect(await read(repo, 'src/shapes/square.ts')).toContain('surface(): number {\n    return this.side ** 2;');
  });

  it('exits 2 with the reason on invalid data and on a codemod error', async () => {
    const bad = path.join(tmp, 'bad.json');
    await fs.writeFile(bad, JSON.stringify({ codemod: 'rename-class', from: 'Nope', to: 'Other' }));
    const missing = await run(['apply', bad, '--repo', repo]);
    expect(missing).toEqual({ code: 2, out: "error: rename-class: no declaration of 'Nope' in ." });
    await fs.writeFile(bad, JSON.stringify({ codemod: 'rename-class', from: 'Nope' }));
    expect((await run(['apply', bad, '--repo', repo])).out).toMatch(/^error: [\s\S]*to: required/i);
    expect((await run(['apply'])).code).toBe(2);
  });
});
