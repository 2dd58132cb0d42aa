/** A small TypeScript library with its own tests, in a fresh git repository: the target of the codemod tests. */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export const TSX = path.join(__dirname, '../../node_modules/.bin/tsx');
export const FIXTURE_TEST_COMMAND = `${TSX} test/run.ts`;

export const FIXTURE_FILES: Record<string, string> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, skipLibCheck: true, types: [] }, include: ['src', 'test'] }, null, 2) + '\n',
  'src/util/format.ts': `/** Two decimals, for display. */
export function format(value: number): string {
  return value.toFixed(2);
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
`,
  'src/shapes/shape.ts': `import { format } from '../util/format';

export abstract class Shape {
  abstract area(): number;
  abstract name(): string;
  describe(): string {
    return \`\${this.name()} of area \${format(this.area())}\`;
  }
}
`,
  'src/shapes/circle.ts': `import { Shape } from './shape';

export class Circle extends Shape {
  constructor(readonly radius: number) {
    super();
  }
  area(): number {
    return Math.PI * Math.pow(this.radius, 2);
  }
  name(): string {
    return 'circle';
  }
}
`,
  'src/shapes/square.ts': `import { Shape } from './shape';

export class Square extends Shape {
  constructor(readonly side: number) {
    super();
  }
  area(): number {
    return Math.pow(this.side, 2);
  }
  name(): string {
    return 'square';
  }
}
`,
  'src/math.ts': `import { clamp } from './util/format';

export function scale(value: number, factor: number): number {
  return clamp(value * factor, 0, 1000);
}

export function total(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0);
}
`,
  'src/report.ts': `import type { Shape } from './shapes/shape';
import { format } from './util/format';
import { scale, total } from './math';

export function report(shapes: Shape[]): string {
  const areas = shapes.map((s) => scale(s.area(), 1));
  return shapes.map((s) => s.describe()).join('\\n') + '\\ntotal ' + format(total(areas));
}
`,
  'src/index.ts': `export { Shape } from './shapes/shape';
export { Circle } from './shapes/circle';
export { Square } from './shapes/square';
export { scale, total } from './math';
export { report } from './report';
export { format } from './util/format';
`,
  'test/assert.ts': `export function check(name: string, ok: boolean): void {
  if (!ok) throw new Error('failed: ' + name);
}
`,
  'test/shapes.test.ts': `import { Circle, Square } from '../src';
import { check } from './assert';

check('square area', new Square(3).area() === 9);
check('circle area', Math.abs(new Circle(1).area() - Math.PI) < 1e-9);
check('describe', new Square(2).describe() === 'square of area 4.00');
`,
  'test/report.test.ts': `import { Square, report, scale } from '../src';
import { check } from './assert';

check('scale', scale(2, 3) === 6);
check('report', report([new Square(1), new Square(2)]) === 'square of area 1.00\\nsquare of area 4.00\\ntotal 5.00');
`,
  'test/run.ts': `import './shapes.test';
import './report.test';
console.log('ok');
`,
};

const GIT = ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main'];

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
}

/** Writes `files` into `dir` and commits them, so `git status` shows exactly what a codemod changed. */
export async function createRepo(dir: string, files: Record<string, string> = FIXTURE_FILES): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await writeFiles(dir, files);
  execFileSync('git', [...GIT, 'init', '-q'], { cwd: dir });
  execFileSync('git', [...GIT, 'add', '-A'], { cwd: dir });
  execFileSync('git', [...GIT, 'commit', '-qm', 'init'], { cwd: dir });
  return fs.realpath(dir);
}

export const gitStatus = (repo: string): string => execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' });
export const resetRepo = (repo: string): void => {
  execFileSync('git', ['checkout', '-q', '--', '.'], { cwd: repo });
  execFileSync('git', ['clean', '-qfd'], { cwd: repo });
};
export const read = (repo: string, file: string): Promise<string> => fs.readFile(path.join(repo, file), 'utf8');
