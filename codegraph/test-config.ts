/**
 * Which files the repository's test runner runs, read from its config without executing it: jest
 * (`jest` in package.json, jest.config.{js,ts,mjs,cjs,json}: testMatch or testRegex, testPathIgnorePatterns,
 * roots, rootDir) or vitest (vitest.config.*, or vite.config.* with a `test` key: include, exclude, dir). A config
 * file must be JSON or a plain object literal (`module.exports = {…}`, `export default {…}`,
 * `export default defineConfig({…})`, or a `const` holding one); keys the selection needs that are not
 * literals (a variable, a spread, a function call) make the config unreadable, and the selection falls back
 * to the paths convention (`isTestFile`) and says so. With a runner installed but no config, the runner's
 * defaults apply.
 */
import { ts } from 'ts-morph';
import { testGlobMatcher } from '../core/glob';

export const JEST_CONFIGS = ['jest.config.js', 'jest.config.ts', 'jest.config.mjs', 'jest.config.cjs', 'jest.config.json'];
export const VITEST_CONFIGS = ['vitest.config.ts', 'vitest.config.mts', 'vitest.config.js', 'vitest.config.mjs', 'vitest.config.cjs', 'vite.config.ts', 'vite.config.mts', 'vite.config.js', 'vite.config.mjs', 'vite.config.cjs'];
/** Files whose text decides the selection: a change to one re-selects every file. */
export const TEST_CONFIG_PATHS = ['package.json', ...JEST_CONFIGS, ...VITEST_CONFIGS];

export const JEST_DEFAULT_MATCH = ['**/__tests__/**/*.[jt]s?(x)', '**/?(*.)+(spec|test).[jt]s?(x)'];
export const VITEST_DEFAULT_INCLUDE = ['**/*.{test,spec}.?(c|m)[jt]s?(x)'];
export const VITEST_DEFAULT_EXCLUDE = ['**/node_modules/**', '**/dist/**', '**/cypress/**', '**/.{idea,git,cache,output,temp}/**', '**/{karma,rollup,webpack,vite,vitest,jest,ava,babel,nyc,cypress,tsup,build,eslint,prettier}.config.*'];

export interface TestSelection {
  isTest: (path: string) => boolean;
  /** Where the selection came from, for the output: `jest.config.js`, `vitest defaults (no config)`, or the fallback and why. */
  source: string;
  /** Set when the paths convention is used: no runner config, or one that could not be read (and why). */
  fallback?: string;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
/** A value the reader could not take as a literal. */
const OPAQUE = Symbol('opaque');
type Literal = Json | typeof OPAQUE | { [key: string]: Literal } | Literal[];

class Unreadable extends Error {}

/** The selection for a repository whose config files (repo-relative path → text, root only) are given. */
export function testSelection(configs: ReadonlyMap<string, string>, fallbackIsTest: (path: string) => boolean): TestSelection {
  const fallback = (why: string): TestSelection => ({ isTest: fallbackIsTest, source: `tests by path (${why})`, fallback: why });
  let pkg: Record<string, Literal> | undefined;
  const pkgText = configs.get('package.json');
  if (pkgText !== undefined) {
    try {
      pkg = JSON.parse(pkgText) as Record<string, Literal>;
    } catch {
      pkg = undefined;
    }
  }
  try {
    const jestFile = JEST_CONFIGS.find((f) => configs.has(f));
    if (jestFile) return jestSelection(readConfig(jestFile, configs.get(jestFile)!), jestFile);
    if (pkg && typeof pkg['jest'] === 'object' && pkg['jest'] !== null) return jestSelection(pkg['jest'] as Record<string, Literal>, 'package.json "jest"');
    const vitestFile = VITEST_CONFIGS.find((f) => configs.has(f));
    if (vitestFile) {
      const config = readConfig(vitestFile, configs.get(vitestFile)!);
      const test = config['test'];
      if (test === OPAQUE) throw new Unreadable(`${vitestFile}: "test" is not a literal`);
      if (test !== undefined || vitestFile.startsWith('vitest.')) return vitestSelection((test ?? {}) as Record<string, Literal>, vitestFile);
    }
  } catch (e) {
    if (e instanceof Unreadable) return fallback(`${e.message}: the config could not be read`);
    throw e;
  }
  const deps = { ...(pkg?.['dependencies'] as object | undefined), ...(pkg?.['devDependencies'] as object | undefined) };
  const script = typeof (pkg?.['scripts'] as Record<string, unknown> | undefined)?.['test'] === 'string' ? String((pkg!['scripts'] as Record<string, string>)['test']) : '';
  if ('vitest' in deps || /\bvitest\b/.test(script)) return vitestSelection({}, 'vitest defaults (no config)');
  if ('jest' in deps || /\bjest\b/.test(script)) return jestSelection({}, 'jest defaults (no config)');
  return fallback('no jest or vitest config');
}

const strings = (value: Literal | undefined, key: string, where: string): string[] | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new Unreadable(`${where}: "${key}" is not a literal string list`);
};

function jestSelection(config: Record<string, Literal>, where: string): TestSelection {
  if (config['projects'] !== undefined) throw new Unreadable(`${where}: "projects" (several jest projects) is not read`);
  const rootDirValue = config['rootDir'] ?? '.';
  if (typeof rootDirValue !== 'string') throw new Unreadable(`${where}: "rootDir" is not a literal string`);
  const rootDir = rootDirValue.replace(/^\.\/?/, '').replace(/\/$/, '');
  /** `<rootDir>/x` → `x` under rootDir; jest's paths are absolute, ours are repo-relative. */
  const fromRootDir = (p: string) => p.replace(/^<rootDir>\/?/, rootDir === '' ? '' : `${rootDir}/`).replace(/\/$/, '');
  const testMatch = strings(config['testMatch'], 'testMatch', where);
  const testRegex = strings(config['testRegex'], 'testRegex', where);
  const ignore = strings(config['testPathIgnorePatterns'], 'testPathIgnorePatterns', where) ?? ['/node_modules/'];
  const roots = (strings(config['roots'], 'roots', where) ?? ['<rootDir>']).map(fromRootDir);
  const regex = (source: string) => {
    try {
      return new RegExp(source.replace(/<rootDir>/g, rootDir === '' ? '' : `/${rootDir}`));
    } catch {
      throw new Unreadable(`${where}: "${source}" is not a regular expression`);
    }
  };
  const ignored = ignore.map(regex);
  // jest tests testRegex and testPathIgnorePatterns against the absolute path: '/' + the repo path stands for it.
  const matches = testRegex && !testMatch ? testRegex.map(regex).map((r) => (p: string) => r.test(`/${p}`)) : (testMatch ?? JEST_DEFAULT_MATCH).map((g) => testGlobMatcher(fromRootDir(g)));
  return {
    source: where,
    isTest: (p) => roots.some((r) => r === '' || p.startsWith(`${r}/`)) && matches.some((m) => m(p)) && !ignored.some((r) => r.test(`/${p}`)),
  };
}

function vitestSelection(test: Record<string, Literal>, where: string): TestSelection {
  if (test['workspace'] !== undefined || test['projects'] !== undefined) throw new Unreadable(`${where}: "workspace"/"projects" (several vitest projects) is not read`);
  const include = (strings(test['include'], 'include', where) ?? VITEST_DEFAULT_INCLUDE).map(testGlobMatcher);
  const exclude = (strings(test['exclude'], 'exclude', where) ?? VITEST_DEFAULT_EXCLUDE).map(testGlobMatcher);
  const dir = test['dir'] === undefined ? '' : typeof test['dir'] === 'string' ? test['dir'].replace(/^\.\/?/, '').replace(/\/$/, '') : undefined;
  if (dir === undefined) throw new Unreadable(`${where}: "dir" is not a literal string`);
  return {
    source: where,
    isTest: (p) => {
      if (dir !== '' && !p.startsWith(`${dir}/`)) return false;
      const rel = dir === '' ? p : p.slice(dir.length + 1);
      return include.some((m) => m(rel)) && !exclude.some((m) => m(rel));
    },
  };
}

/** A config file's exported object, as literals (OPAQUE where a value is not one); Unreadable when there is none. */
export function readConfig(file: string, text: string): Record<string, Literal> {
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(text) as Record<string, Literal>;
    } catch {
      throw new Unreadable(`${file}: not JSON`);
    }
  }
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const consts = new Map<string, ts.Expression>();
  let exported: ts.Expression | undefined;
  for (const stmt of sf.statements) {
    if (ts.isVariableStatement(stmt)) for (const d of stmt.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer) consts.set(d.name.text, d.initializer);
    if (ts.isExportAssignment(stmt)) exported = stmt.expression;
    if (ts.isExpressionStatement(stmt) && ts.isBinaryExpression(stmt.expression) && stmt.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const left = stmt.expression.left;
      if (ts.isPropertyAccessExpression(left) && ts.isIdentifier(left.expression) && left.expression.text === 'module' && left.name.text === 'exports') exported = stmt.expression.right;
    }
  }
  const unwrap = (e: ts.Expression | undefined, depth = 0): ts.Expression | undefined => {
    if (!e || depth > 5) return e;
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) return unwrap(e.expression, depth + 1);
    // defineConfig({…}) / defineProject({…}): the object is the config. A function argument is not readable.
    if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && /^define(Config|Project)$/.test(e.expression.text) && e.arguments.length === 1) return unwrap(e.arguments[0], depth + 1);
    if (ts.isIdentifier(e) && consts.has(e.text)) return unwrap(consts.get(e.text), depth + 1);
    return e;
  };
  const object = unwrap(exported);
  if (!object || !ts.isObjectLiteralExpression(object)) throw new Unreadable(`${file}: ${exported ? 'the export is not an object literal' : 'no module.exports or export default'}`);
  const literal = (e: ts.Expression): Literal => {
    const u = unwrap(e)!;
    if (ts.isStringLiteral(u) || ts.isNoSubstitutionTemplateLiteral(u)) return u.text;
    if (ts.isRegularExpressionLiteral(u)) return OPAQUE;
    if (ts.isNumericLiteral(u)) return Number(u.text);
    if (u.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (u.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (u.kind === ts.SyntaxKind.NullKeyword) return null;
    if (ts.isArrayLiteralExpression(u)) return u.elements.some(ts.isSpreadElement) ? OPAQUE : u.elements.map(literal);
    if (ts.isObjectLiteralExpression(u)) return objectOf(u);
    return OPAQUE;
  };
  const objectOf = (o: ts.ObjectLiteralExpression): Record<string, Literal> => {
    const out: Record<string, Literal> = {};
    for (const p of o.properties) {
      if (ts.isSpreadAssignment(p)) throw new Unreadable(`${file}: a spread (...) in the config`);
      const name = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
      if (name === undefined) continue;
      out[name] = ts.isPropertyAssignment(p) ? literal(p.initializer) : ts.isShorthandPropertyAssignment(p) ? literal(p.name) : OPAQUE;
    }
    return out;
  };
  return objectOf(object);
}
