/**
 * Two real third-party TypeScript libraries for the RefactorSurgeon bench, kept as source archives
 * (`git archive` of the snapshot commit, no node_modules) in bench/libs/:
 *  - immer (immerjs/immer @ 061c2425): ~13.7k lines, vitest, JavaScript test files, `any`-typed internals,
 *    a `files`-based tsconfig with allowJs and a separate __tests__/tsconfig.json.
 *  - superjson (flightcontrolhq/superjson @ aaa65e36): ~3k lines, vitest, `any`-typed code, a tsconfig
 *    that excludes the tests (rootDir src) under noUnusedParameters. src/non-deduped-cal.json is absent
 *    from the snapshot (too large for it), so one test reading it fails before any change.
 * `prepareLib` unpacks a fresh git repository and installs the packages its tests and tsc need, at the
 * versions its lock file pins (the release, publishing, flow and bundling tools are left out), cached by
 * that list: the installed node_modules is hard-linked into each fresh copy.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface RealLib {
  name: string;
  archive: string;
  /** Exact versions, from the library's own lock file. */
  packages: Record<string, string>;
  /** The library's own type-check (what its CI runs), from the repository root. */
  tscArgs: string[][];
}

export const REAL_LIBS: RealLib[] = [
  {
    name: 'immer',
    archive: 'immer-061c2425.tar.gz',
    packages: {
      '@types/node': '24.3.1',
      'deep-freeze': '0.0.1',
      immutable: '4.3.9',
      lodash: '4.18.1',
      'lodash.clonedeep': '4.5.0',
      redux: '4.2.1',
      'seamless-immutable': '7.1.4',
      'type-plus': '7.6.2',
      typescript: '5.0.2',
      vite: '7.3.5',
      vitest: '3.2.6',
    },
    tscArgs: [['-p', 'tsconfig.json', '--noEmit']],
  },
  {
    name: 'superjson',
    archive: 'superjson-aaa65e36.tar.gz',
    packages: {
      'copy-anything': '4.0.5',
      '@types/mongodb': '3.6.20',
      '@types/node': '24.10.1',
      'decimal.js': '10.6.0',
      mongodb: '3.7.4',
      typescript: '5.9.3',
      vitest: '0.34.6',
    },
    tscArgs: [['-p', 'tsconfig.json', '--noEmit']],
  },
];

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });

/** A fresh git repository of the library under `workDir`/<name>, its packages installed (cached). */
export function prepareLib(lib: RealLib, workDir: string): string {
  const benchDir = path.join(__dirname, '..');
  const dir = path.join(workDir, lib.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  execFileSync('tar', ['xzf', path.join(benchDir, 'libs', lib.archive), '-C', workDir]);
  const key = createHash('sha256').update(JSON.stringify(lib.packages)).digest('hex').slice(0, 12);
  const cache = path.join(workDir, 'npm-cache', `${lib.name}-${key}`);
  if (!existsSync(path.join(cache, 'node_modules', '.package-lock.json'))) {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    writeFileSync(path.join(cache, 'package.json'), JSON.stringify({ name: `${lib.name}-bench-deps`, private: true, devDependencies: lib.packages }, null, 2));
    execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: cache, stdio: 'inherit' });
  }
  execFileSync('cp', ['-al', path.join(cache, 'node_modules'), path.join(dir, 'node_modules')]);
  writeFileSync(path.join(dir, '.gitignore'), 'node_modules\ndist\n');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', `${lib.name} as archived`);
  return dir;
}

/** The library's own `tsc --noEmit`: error count and wall time. */
export function ownTsc(lib: RealLib, dir: string): { errors: number; ms: number } {
  const tsc = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  const started = performance.now();
  let errors = 0;
  for (const args of lib.tscArgs) {
    try {
      execFileSync('node', [tsc, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    } catch (e) {
      errors += (String((e as { stdout?: string }).stdout ?? '').match(/error TS\d+/g) ?? []).length;
    }
  }
  return { errors, ms: Math.round(performance.now() - started) };
}

export const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
