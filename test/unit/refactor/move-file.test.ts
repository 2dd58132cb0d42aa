/** move-file rewrites only the relative module specifiers that resolve to the moved file, in their own style. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCodemod, RefactorWorkspace } from '../../../refactor';
import { respecify } from '../../../refactor/transforms';

const FILES: Record<string, string> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, skipLibCheck: true, types: [], baseUrl: '.', paths: { '@lib/*': ['src/lib/*'] } }, include: ['src'] }),
  'src/lib/money/index.ts': "import { round } from '../round.js';\nexport type Cents = number;\nexport function money(v: number): string {\n  return round(v).toFixed(2);\n}\n",
  'src/lib/round.ts': 'export const round = (v: number): number => Math.round(v * 100) / 100;\n',
  'src/a.ts': "import { money } from './lib/money';\nexport const a = money(1);\n",
  'src/b.ts': "import type { Cents } from './lib/money/index.js';\nexport type B = Cents;\nexport const load = () => import('./lib/money');\nexport type M = typeof import('./lib/money/index');\n",
  'src/c.ts': "export * from './lib/money/index';\nimport { money as viaAlias } from '@lib/money';\nexport const c = viaAlias(2);\n",
  'src/deep/d.ts': "import { money } from \"../lib/money\";\nexport const moneyish = 'money';\nexport const d = money(3);\n",
};

let repo: string;
beforeAll(async () => {
  repo = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-move-file-'));
  for (const [file, text] of Object.entries(FILES)) {
    await fs.mkdir(path.dirname(path.join(repo, file)), { recursive: true });
    await fs.writeFile(path.join(repo, file), text);
  }
});
afterAll(() => fs.rm(repo, { recursive: true, force: true }));

describe('move-file', () => {
  it('keeps each specifier style (.js suffix, /index, directory) and leaves path aliases alone', async () => {
    const ws = RefactorWorkspace.open(repo);
    const result = await ws.apply(parseCodemod({ codemod: 'move-file', from: 'src/lib/money/index.ts', to: 'src/money.ts' }), { dryRun: true, typecheck: false });
    expect(result.created).toEqual(['src/money.ts']);
    expect(result.deleted).toEqual(['src/lib/money/index.ts']);
    expect(result.changedFiles).toEqual(['src/a.ts', 'src/b.ts', 'src/c.ts', 'src/deep/d.ts', 'src/lib/money/index.ts', 'src/money.ts']);
    expect(result.diff).toContain("+import { money } from './money';");
    expect(result.diff).toContain("+import type { Cents } from './money.js';");
    expect(result.diff).toContain("+export const load = () => import('./money');");
    expect(result.diff).toContain("+export type M = typeof import('./money');");
    expect(result.diff).toContain("+export * from './money';");
    expect(result.diff).toContain('+import { money } from "../money";'); // quote style kept
    expect(result.diff).toContain("+import { round } from './lib/round.js';"); // the moved file's own imports follow it
    expect(result.diff).not.toContain("-import { money as viaAlias } from '@lib/money';");
    expect(result.diff).not.toContain("moneyish = './money'"); // strings that are not module names are not touched
  });

  it('type-checks after a move deeper into the tree and is idempotent', async () => {
    const ws = RefactorWorkspace.open(repo);
    const codemod = parseCodemod({ codemod: 'move-file', from: 'src/lib/round.ts', to: 'src/lib/num/rounding.ts' });
    const result = await ws.apply(codemod, { dryRun: true, typecheck: true });
    expect(result.typeErrors).toMatchObject({ before: 0, after: 0 });
    expect(result.diff).toContain("+import { round } from '../num/rounding.js';");
    await ws.apply(codemod, { typecheck: true });
    expect((await ws.apply(codemod, { typecheck: true })).alreadyApplied).toBe(true);
  });
});

describe('respecify', () => {
  it.each([
    ['/r/src', '/r/src/lib/x.ts', './old', './lib/x'],
    ['/r/src', '/r/src/lib/x.ts', './old.js', './lib/x.js'],
    ['/r/src', '/r/src/lib/x.mts', './old.mjs', './lib/x.mjs'],
    ['/r/src', '/r/src/lib/x.ts', './old.ts', './lib/x.ts'],
    ['/r/src/a', '/r/src/index.ts', '../old', '..'],
    ['/r/src', '/r/src/index.ts', './old', '.'],
    ['/r/src', '/r/src/lib/index.ts', './old/index', './lib/index'],
    ['/r/src/a', '/r/src/data.json', '../data.json', '../data.json'],
  ])('from %s to %s in the style of %s: %s', (fromDir, target, style, expected) => {
    expect(respecify(fromDir, target, style)).toBe(expected);
  });
});
