import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ingestRepo, MemoryGraphStore } from '../activities/codegraph';
import { diffNames, fileHistory, isAncestor, readBlobs, resolveCommit } from '../activities/codegraph/git';
function generate(dir: string, n: number): void {
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', ...a]);
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'CODEOWNERS'), '*.ts @platform\nsrc/m0*/ @core\n');
  for (let i = 0; i < n; i++) {
    const d = path.join(dir, 'src', `m${i % 25}`);
    fs.mkdirSync(d, { recursive: true });
    const deps = i === 0 ? [] : [...new Set([Math.floor(i / 2), Math.floor(i / 3), (i * 7) % i, 0].filter((j) => j < i))];
    const rel = (j: number) => {
      const r = path.posix.relative(`src/m${i % 25}`, `src/m${j % 25}/f${j}`);
      return r.startsWith('.') ? r : `./${r}`;
    };
    const lines = deps.map((j) => `import { fn${j}, C${j} } from '${rel(j)}';`);
    lines.push(`export function fn${i}(x: number): number {`, `  return x + ${deps.map((j) => `fn${j}(x - 1)`).join(' + ') || '1'};`, '}');
    lines.push(`export class C${i} {`, `  run(x: number) { return this.step(x) + fn${i}(x); }`, `  step(x: number) { return ${deps.length ? `new C${deps[0]}().run(x)` : 'x'}; }`, '}');
    for (let k = 0; k < 20; k++) lines.push(`// filler line ${k} to give the file a realistic size`);
    fs.writeFileSync(path.join(d, `f${i}.ts`), lines.join('\n') + '\n');
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'generated');
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-'));
  generate(dir, 1200);
  const head = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const target = path.join(dir, 'src', 'm0', 'f500.ts');
  fs.writeFileSync(target, fs.readFileSync(target, 'utf8').replace('filler line 3', 'edited line 3'));
  execFileSync('git', ['-C', dir, '-c', 'user.name=b', '-c', 'user.email=b@x', 'commit', '-qam', 'x']);
  const next = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const m = new MemoryGraphStore();
  for (let i = 0; i < 3; i++) {
    await ingestRepo(m, dir, head, { mode: 'full' });
    let t = Date.now();
    const r = await ingestRepo(m, dir, next);
    console.log('inc total', Date.now() - t, JSON.stringify(r.ms));
  }
  const T = async (name: string, f: () => Promise<unknown>) => { const t = Date.now(); await f(); console.log(name, Date.now() - t); };
  for (let i = 0; i < 2; i++) {
    await T('getMeta', () => m.getMeta());
    await T('resolve', () => resolveCommit(dir, next));
    await T('isAnc', () => isAncestor(dir, head, next));
    await T('diff', () => diffNames(dir, head, next));
    await T('log', () => fileHistory(dir, `${head}..${next}`));
    await T('listFiles', () => m.listFiles());
    await T('blobs', () => readBlobs(dir, next, ['src/m0/f500.ts', 'CODEOWNERS']));
    await T('getFiles', () => m.getFiles(['src/m0/f500.ts']));
    await T('importersOf', () => m.importersOf(['src/m0/f500.ts']));
    await T('ownershipOf', () => m.ownershipOf(['src/m0/f500.ts']));
  }
  fs.rmSync(dir, { recursive: true, force: true });
})();
