/**
 * RefactorSurgeon: a ts-morph project loaded once per repository and reused for any number of codemods.
 * Every codemod is computed in memory, then checked (declared boundary, type-check, public API), and only
 * then written; a codemod that fails at any step is undone in memory and on disk, so the working tree is
 * left exactly as it was.
 */
import { existsSync, promises as fs, readFileSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { Project, QuoteKind, type SourceFile } from 'ts-morph';
import { codemodSchema, type Codemod } from '../core/change-request';
import { parseOrThrow, ValidationError } from '../core/validation';
import { unifiedDiff } from './diff';
import { RepoTypeCheck, repoTsConfigs, repoTypeScript, typecheckCacheDir } from './typecheck';
import { CodemodError, type TsCodemod, removeImportsMadeUnused, runTransform, type TransformContext } from './transforms';

import { fillTestArgv, parseTestOutput, runCommand, scrubbedEnv, type TestCounts, type TestRun } from '../evals/test-runner';
import { TSX_CLI } from '../io/paths';

export { CodemodError } from './transforms';

export interface OpenOptions {
  /**
   * Where the type-check keeps TypeScript's incremental state between processes (refactor/typecheck.ts). Default:
   * the repository's git directory (typecheckCacheDir); false: nowhere (every process checks from scratch).
   */
  typecheckCache?: string | false;
}

export interface ApplyOptions {
  /** Compute and check the change, return its diff, write nothing. */
  dryRun?: boolean;
  /** Refuse the change when it adds type errors (compared with the errors the project already had). Default true. */
  typecheck?: boolean;
  /** Compare the emitted .d.ts of non-test files before/after: always reported when on; enforced when the codemod preserves the API. Default: on when the codemod preserves the API. */
  checkPublicApi?: boolean;
  /**
   * Shell command run in the repository before and after writing; when tests that passed before fail after, the
   * change is undone. Default: the repository's own (maestro.service.json `test`, else package.json's `npm test`);
   * false: none.
   */
  testCommand?: string | false;
  testTimeoutMs?: number;
}

export interface RefactorResult {
  codemod: Codemod['codemod'];
  /** Repo-relative paths (forward slashes) written, created or deleted, sorted. */
  changedFiles: string[];
  created: string[];
  deleted: string[];
  /** True when the codemod found its work already done (applying twice = once). */
  alreadyApplied: boolean;
  /** Unified diff of the change (`git apply`-able). */
  diff: string;
  /** .d.ts files (relative to the repo) whose emitted text changed; undefined when the API was not compared. */
  publicApiChanges?: string[];
  /** The repository's tests before and after the change (only for a written change with a test command). */
  tests?: { command: string; before: { passed: number; failed: number }; after: { passed: number; failed: number }; flaky: string[] };
  /** Type errors before/after (only when type-checked): `before`/`after` are the root tsconfig's, as `tsc --noEmit` counts them. */
  typeErrors?: { before: number; after: number; byConfig: { config: string; before: number; after: number }[] };
  written: boolean;
  durationMs: number;
  /** Where `durationMs` went, in ms per phase (the type checks split into program creation and checking). */
  phasesMs: Record<string, number>;
  /**
   * How many files each type check of this apply checked (summed over the configs): `before` is absent when the
   * workspace already had it, 0 when TypeScript's kept state already held this tree; `after` counts what the
   * change could affect.
   */
  filesTypeChecked?: { before?: number; after?: number };
}

const TS_EXT = /\.(?:ts|tsx|mts|cts)$/;
const TEST_FILE = /(?:^|\/)(?:test|tests|__tests__|spec)\/|\.(?:test|spec)\.[cm]?tsx?$/;
export const isTestFile = (repoPath: string): boolean => TEST_FILE.test(repoPath);

/** The API default each codemod implies: renames, moves and signature changes change it on purpose. */
export function apiIntent(codemod: TsCodemod): 'preserve' | 'change' {
  if (codemod.publicApi) return codemod.publicApi;
  if (codemod.codemod === 'replace-call') return 'preserve';
  return 'change';
}

/** Resolves a repo-relative path and refuses anything that leaves the repo, through `..` or a symlink. */
export function resolveInsideRepo(repoRoot: string, relativePath: string): string {
  const root = realpathSync(repoRoot);
  if (path.isAbsolute(relativePath)) throw new CodemodError(`'${relativePath}' must be a path relative to the repository`);
  const resolved = path.resolve(root, relativePath);
  let real = resolved;
  try {
    real = realpathSync(resolved);
  } catch {
    // Does not exist (yet): check the nearest existing parent for symlinks out of the repo.
    let parent = path.dirname(resolved);
    while (!existsSync(parent) && parent !== path.dirname(parent)) parent = path.dirname(parent);
    try {
      real = path.join(realpathSync(parent), path.relative(parent, resolved));
    } catch {
      real = resolved;
    }
  }
  for (const candidate of [resolved, real]) {
    const relative = path.relative(root, candidate);
    if (relative.startsWith('..') || path.isAbsolute(relative) || relative.split(path.sep).includes('.git'))
      throw new CodemodError(`'${relativePath}' is outside the repository`);
  }
  return real;
}

/** Errors per tsconfig (or one entry for the project's own program), keyed `file|code`. */
type Diagnostics = { config: string; count: number; byKey: Map<string, { count: number; sample: string }> }[];

export class RefactorWorkspace {
  private baselineDiagnostics?: Diagnostics;
  private baselineApi?: Map<string, string>;
  private baselineTests?: { command: string; run: TestRun };

  private constructor(
    readonly root: string,
    readonly project: Project,
    /** The repository's own tsconfig(s); undefined when it has none (then the project's own program is checked). */
    private readonly typeCheck: RepoTypeCheck | undefined,
  ) {}

  /**
   * Loads every TypeScript and JavaScript file of the repository (node_modules, dist, coverage, .git, .maestro
   * excluded) once, with the root tsconfig's options and allowJs, so renames and moves reach JavaScript importers
   * and files no tsconfig includes. The type-check is the repository's own (refactor/typecheck.ts).
   */
  static open(repoRoot: string, options: OpenOptions = {}): RefactorWorkspace {
    const root = realpathSync(repoRoot);
    const tsConfigFilePath = path.join(root, 'tsconfig.json');
    const hasTsConfig = existsSync(tsConfigFilePath);
    const project = new Project({
      ...(hasTsConfig ? { tsConfigFilePath } : {}),
      compilerOptions: { ...(hasTsConfig ? {} : { strict: true, target: 9 /* ES2022 */, module: 1 /* commonjs */ }), allowJs: true, checkJs: false, declaration: true, noEmit: false, emitDeclarationOnly: true, declarationMap: false, sourceMap: false, composite: false, incremental: false },
      skipAddingFilesFromTsConfig: true,
    });
    const ignored = ['node_modules', 'dist', '.git', '.maestro', 'coverage'];
    project.addSourceFilesAtPaths([path.join(root, '**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}'), ...ignored.map((dir) => '!' + path.join(root, `**/${dir}/**`))]);
    for (const sf of project.getSourceFiles()) {
      const rel = path.relative(root, sf.getFilePath());
      if (rel.startsWith('..') || rel.split(path.sep).some((part) => ignored.includes(part))) project.removeSourceFile(sf);
    }
    // New imports follow the repository's quote style.
    const sample = project.getSourceFiles().flatMap((sf) => sf.getImportDeclarations().slice(0, 1))[0];
    if (sample?.getModuleSpecifier().getText().startsWith("'")) project.manipulationSettings.set({ quoteKind: QuoteKind.Single });
    const typescript = repoTypeScript(root);
    const configs = repoTsConfigs(root, typescript);
    const relative = (absolute: string) => path.relative(root, absolute).split(path.sep).join('/');
    const cacheDir = options.typecheckCache === false ? undefined : (options.typecheckCache ?? typecheckCacheDir(root));
    return new RefactorWorkspace(root, project, configs.length > 0 ? new RepoTypeCheck(typescript, configs, relative, cacheDir ? { dir: cacheDir, root } : undefined) : undefined);
  }

  repoPath(absolute: string): string {
    return path.relative(this.root, absolute).split(path.sep).join('/');
  }

  /** Applies one codemod: compute in memory → check → write (unless dry-run) → run the repo's tests. */
  async apply(input: TsCodemod | Record<string, unknown>, options: ApplyOptions = {}): Promise<RefactorResult> {
    const started = performance.now();
    let parsed: Codemod;
    try {
      parsed = parseOrThrow(codemodSchema, input, 'codemod');
    } catch (error) {
      if (error instanceof ValidationError) throw new CodemodError(error.message);
      throw error;
    }
    if (parsed.codemod === 'replace-literal') throw new CodemodError('replace-literal is a text codemod; use applyCodemod');
    const codemod: TsCodemod = parsed;
    const intent = apiIntent(codemod);
    const typecheck = options.typecheck ?? true;
    const checkApi = options.checkPublicApi ?? intent === 'preserve';

    const phasesMs: Record<string, number> = {};
    const filesTypeChecked: NonNullable<RefactorResult['filesTypeChecked']> = {};
    let phaseStarted = performance.now();
    const phase = (name: string) => {
      const now = performance.now();
      phasesMs[name] = (phasesMs[name] ?? 0) + Math.round(now - phaseStarted);
      phaseStarted = now;
    };
    const checkPhases = (name: string) => {
      if (!this.typeCheck) return;
      phasesMs[`${name}.program`] = Math.round(this.typeCheck.lastPhases.program);
      phasesMs[`${name}.diagnostics`] = Math.round(this.typeCheck.lastPhases.diagnostics);
      filesTypeChecked[name === 'typecheckBefore' ? 'before' : 'after'] = this.typeCheck.lastPhases.checkedFiles;
    };
    const before = this.snapshot();
    // Without a tsconfig the check is the project's own program, which knows only the texts it holds now.
    if (typecheck && !this.typeCheck) this.baselineDiagnostics ??= this.diagnostics((file) => before.get(file));
    const apiBefore = checkApi ? (this.baselineApi ??= this.emitPublicApi()) : undefined;
    phase('publicApiBefore');

    const moves = new Map<string, string>(); // old absolute path → new absolute path
    const ctx: TransformContext = { root: this.root, project: this.project, resolve: (p) => resolveInsideRepo(this.root, p), repoPath: (p) => this.repoPath(p), moves };
    let alreadyApplied = false;
    try {
      alreadyApplied = runTransform(ctx, codemod).alreadyApplied;
      for (const sf of this.project.getSourceFiles()) {
        const was = before.get(sf.getFilePath());
        if (was !== undefined && was !== sf.getFullText()) removeImportsMadeUnused(sf, was);
      }
    } catch (error) {
      this.restore(before);
      throw error;
    }
    phase('transform');
    const after = this.snapshot();
    const created = [...after.keys()].filter((f) => !before.has(f));
    const deleted = [...before.keys()].filter((f) => !after.has(f));
    const modified = [...after.keys()].filter((f) => before.has(f) && before.get(f) !== after.get(f));
    const touched = [...new Set([...created, ...deleted, ...modified])].sort();
    const changedFiles = touched.map((f) => this.repoPath(f)).sort();

    try {
      if (codemod.within) {
        const allowed = codemod.within.map((w) => resolveInsideRepo(this.root, w));
        const outside = touched.filter((f) => !allowed.some((dir) => isInside(dir, f)));
        if (outside.length > 0)
          throw new CodemodError(
            `${codemod.codemod}: would change ${outside.map((f) => this.repoPath(f)).join(', ')}, outside the declared scope (within: ${codemod.within.join(', ')}); nothing was written`,
          );
      }
      // The "before" check runs after the transform, on the texts as they were: a refused codemod costs no check.
      let diagnosticsBefore: Diagnostics | undefined;
      if (typecheck) {
        if (!this.baselineDiagnostics) {
          this.baselineDiagnostics = this.diagnostics((file) => before.get(file));
          checkPhases('typecheckBefore');
          this.typeCheck?.saveState(); // the tree on disk, checked: the next process's "before" costs no check
        }
        diagnosticsBefore = this.baselineDiagnostics;
        phase('typecheckBefore');
      }
      let typeErrors: RefactorResult['typeErrors'];
      let diagnosticsAfter: Diagnostics | undefined;
      if (diagnosticsBefore && touched.length > 0) {
        diagnosticsAfter = this.diagnostics((file) => this.project.getSourceFile(file)?.getFullText(), moves, created, deleted);
        checkPhases('typecheckAfter');
        phase('typecheckAfter');
        const renamedKey = (key: string) => {
          const [file, code] = key.split('|');
          const moved = moves.get(file!);
          return moved ? `${moved}|${code}` : key;
        };
        const added = diagnosticsAfter.flatMap((afterConfig, i) => {
          const beforeByKey = new Map([...(diagnosticsBefore[i]?.byKey ?? [])].map(([k, v]) => [renamedKey(k), v.count]));
          return [...afterConfig.byKey].filter(([key, v]) => v.count > (beforeByKey.get(key) ?? 0)).map(([, v]) => [afterConfig.config, v] as const);
        });
        if (added.length > 0)
          throw new CodemodError(
            `${codemod.codemod}: the change would break the type-check: ${added
              .slice(0, 5)
              .map(([config, v]) => `${v.sample} (${config})`)
              .join('; ')}${added.length > 5 ? ` (and ${added.length - 5} more)` : ''}; nothing was written`,
          );
        typeErrors = errorFigures(diagnosticsBefore, diagnosticsAfter);
      } else if (diagnosticsBefore) typeErrors = errorFigures(diagnosticsBefore, diagnosticsBefore);

      let publicApiChanges: string[] | undefined;
      let apiAfter: Map<string, string> | undefined;
      if (apiBefore) {
        apiAfter = touched.length > 0 ? this.emitPublicApi() : apiBefore;
        phase('publicApiAfter');
        publicApiChanges = [...new Set([...apiBefore.keys(), ...apiAfter.keys()])].filter((k) => apiBefore.get(k) !== apiAfter!.get(k)).sort();
        if (intent === 'preserve' && publicApiChanges.length > 0) {
          const sample = publicApiChanges.slice(0, 3).map((f) => unifiedDiff(f, f, apiBefore.get(f), apiAfter!.get(f))).join('');
          throw new CodemodError(
            `${codemod.codemod}: the public API would change in ${publicApiChanges.join(', ')} but the codemod declares publicApi: 'preserve'; nothing was written\n${sample}`,
          );
        }
      }

      const diff = this.diffOf(before, after, moves);
      const result: RefactorResult = {
        codemod: codemod.codemod,
        changedFiles,
        created: created.map((f) => this.repoPath(f)).sort(),
        deleted: deleted.map((f) => this.repoPath(f)).sort(),
        alreadyApplied,
        diff,
        ...(publicApiChanges ? { publicApiChanges } : {}),
        ...(typeErrors ? { typeErrors } : {}),
        written: false,
        durationMs: 0,
        phasesMs,
        ...(typecheck && this.typeCheck ? { filesTypeChecked } : {}),
      };
      if (options.dryRun || touched.length === 0) {
        this.restore(before);
        phase('diffAndRestore');
        return { ...result, durationMs: performance.now() - started };
      }
      const testCommand = options.testCommand === undefined ? repoTestCommand(this.root) : options.testCommand || undefined;
      const timeoutMs = options.testTimeoutMs ?? 600_000;
      const testsBefore = testCommand ? (this.baselineTests?.command === testCommand ? this.baselineTests.run : await runTests(testCommand, this.root, timeoutMs)) : undefined;
      await this.write(before, after, created, deleted, modified);
      let tests: RefactorResult['tests'];
      if (testCommand && testsBefore) {
        let testsAfter = await runTests(testCommand, this.root, timeoutMs);
        let verdict = judgeTests(testsBefore, testsAfter);
        let flaky: string[] = [];
        if (verdict.newlyFailing.length > 0 && verdict.refuse) {
          // A test that fails once and passes on the re-run is flaky (timing), not broken by the change.
          const rerun = await runTests(testCommand, this.root, timeoutMs);
          const rerunVerdict = judgeTests(testsBefore, rerun);
          flaky = verdict.newlyFailing.filter((name) => !rerunVerdict.newlyFailing.includes(name));
          if (flaky.length > 0 && (!rerunVerdict.refuse || rerunVerdict.newlyFailing.length < verdict.newlyFailing.length)) ({ testsAfter, verdict } = { testsAfter: rerun, verdict: rerunVerdict });
        }
        if (verdict.refuse) {
          await this.write(after, before, deleted, created, modified); // put the files back
          throw new CodemodError(`${codemod.codemod}: ${verdict.reason} (\`${testCommand}\`); the change was undone${verdict.output ? `\n${verdict.output}` : ''}`);
        }
        this.baselineTests = { command: testCommand, run: testsAfter };
        tests = { command: testCommand, before: figuresOf(testsBefore), after: figuresOf(testsAfter), flaky };
      }
      if (diagnosticsAfter) {
        this.baselineDiagnostics = diagnosticsAfter;
        this.typeCheck?.saveState(); // the change is on disk: its check is the next process's "before"
      }
      if (apiAfter) this.baselineApi = apiAfter;
      else this.baselineApi = undefined;
      if (!diagnosticsAfter) this.baselineDiagnostics = undefined;
      phase('writeAndTests');
      return { ...result, ...(tests ? { tests } : {}), written: true, durationMs: performance.now() - started };
    } catch (error) {
      this.restore(before);
      throw error;
    }
  }

  private snapshot(): Map<string, string> {
    return new Map(this.project.getSourceFiles().map((sf) => [sf.getFilePath() as string, sf.getFullText()]));
  }

  /** Puts the in-memory project back to `snapshot`. */
  private restore(snapshot: Map<string, string>): void {
    for (const sf of this.project.getSourceFiles()) if (!snapshot.has(sf.getFilePath())) this.project.removeSourceFile(sf);
    for (const [file, text] of snapshot) {
      const sf = this.project.getSourceFile(file);
      if (!sf) this.project.createSourceFile(file, text, { overwrite: true });
      else if (sf.getFullText() !== text) sf.replaceWithText(text);
    }
  }

  private async write(from: Map<string, string>, to: Map<string, string>, created: string[], deleted: string[], modified: string[]): Promise<void> {
    for (const file of [...created, ...modified]) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, to.get(file)!);
    }
    for (const file of deleted) if (from.has(file)) await fs.rm(file, { force: true });
  }

  private diffOf(before: Map<string, string>, after: Map<string, string>, moves: Map<string, string>): string {
    const parts: string[] = [];
    const movedTo = new Set(moves.values());
    for (const [oldFile, newFile] of moves)
      parts.push(unifiedDiff(this.repoPath(oldFile), this.repoPath(newFile), before.get(oldFile), after.get(newFile)));
    const files = [...new Set([...before.keys(), ...after.keys()])].filter((f) => !moves.has(f) && !movedTo.has(f)).sort();
    for (const file of files) {
      const a = before.get(file);
      const b = after.get(file);
      if (a !== b) parts.push(unifiedDiff(this.repoPath(file), this.repoPath(file), a, b));
    }
    return parts.join('');
  }

  /**
   * The type errors of the project with the texts `textOf` gives (undefined: read from disk): the repository's own
   * tsconfig(s), else the project's program as it is in memory (then `textOf` must be the project's own texts).
   */
  private diagnostics(textOf: (file: string) => string | undefined, moves: Map<string, string> = new Map(), created: string[] = [], deleted: string[] = []): Diagnostics {
    if (this.typeCheck) return this.typeCheck.check(textOf, moves, created, deleted);
    const byKey = new Map<string, { count: number; sample: string }>();
    let total = 0;
    for (const d of this.project.getPreEmitDiagnostics()) {
      if (d.getCategory() !== 1 /* Error */) continue;
      const file = d.getSourceFile()?.getFilePath() ?? '<global>';
      const key = `${file}|${d.getCode()}`;
      const text = d.getMessageText();
      const message = typeof text === 'string' ? text : text.getMessageText();
      const entry = byKey.get(key) ?? { count: 0, sample: `${file === '<global>' ? file : this.repoPath(file)}:${d.getLineNumber() ?? 0} TS${d.getCode()} ${message}` };
      entry.count++;
      total++;
      byKey.set(key, entry);
    }
    return [{ config: '(no tsconfig)', count: total, byKey }];
  }

  /** The emitted .d.ts text of every non-test source file, keyed by its repo-relative source path. */
  emitPublicApi(): Map<string, string> {
    const api = new Map<string, string>();
    for (const sf of this.project.getSourceFiles()) {
      const rel = this.repoPath(sf.getFilePath());
      if (sf.isDeclarationFile() || isTestFile(rel) || !TS_EXT.test(rel)) continue;
      const out = this.project.emitToMemory({ targetSourceFile: sf, emitOnlyDtsFiles: true });
      const dts = out.getFiles().find((f) => f.filePath.endsWith('.d.ts'));
      if (dts) api.set(rel.replace(TS_EXT, '.d.ts'), dts.text);
    }
    return api;
  }

  sourceFile(repoRelative: string): SourceFile | undefined {
    return this.project.getSourceFile(path.join(this.root, repoRelative));
  }
}

const isInside = (dir: string, file: string): boolean => {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};
/** The first config's figures are what the repository's own `tsc --noEmit` reports; the others are listed per config. */
const errorFigures = (before: Diagnostics, after: Diagnostics): NonNullable<RefactorResult['typeErrors']> => ({
  before: before[0]?.count ?? 0,
  after: after[0]?.count ?? 0,
  byConfig: before.map((b, i) => ({ config: b.config, before: b.count, after: after[i]?.count ?? 0 })),
});

/** The repository's own test command: maestro.service.json's `test` argv, else `npm test` when package.json has a test script. */
export function repoTestCommand(root: string): string | undefined {
  const read = (file: string): unknown => {
    try {
      return JSON.parse(readFileSync(path.join(root, file), 'utf8'));
    } catch {
      return undefined;
    }
  };
  const descriptor = read('maestro.service.json') as { test?: unknown } | undefined;
  if (Array.isArray(descriptor?.test) && descriptor.test.every((a) => typeof a === 'string'))
    return fillTestArgv(descriptor.test as string[], TSX_CLI).map((a) => (/^[\w./=:@-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  const pkg = read('package.json') as { scripts?: Record<string, unknown> } | undefined;
  return typeof pkg?.scripts?.test === 'string' ? 'npm test' : undefined;
}

const runTests = (command: string, cwd: string, timeoutMs: number): Promise<TestRun> => runCommand(['sh', '-c', command], cwd, timeoutMs, scrubbedEnv());

const figuresOf = (run: TestRun): { passed: number; failed: number } => {
  const counts = parseTestOutput(run.output);
  return counts ? { passed: counts.pass, failed: counts.fail } : { passed: run.exitCode === 0 ? 1 : 0, failed: run.exitCode === 0 ? 0 : 1 };
};

/** Refuse when the change makes tests fail that passed before (by name, else by count, else by exit code). */
function judgeTests(before: TestRun, after: TestRun): { refuse: boolean; newlyFailing: string[]; reason: string; output?: string } {
  if (after.exitCode === 0 && !after.timedOut) return { refuse: false, newlyFailing: [], reason: '' };
  const b: TestCounts | undefined = parseTestOutput(before.output);
  const a: TestCounts | undefined = parseTestOutput(after.output);
  const tail = after.output.trim().split('\n').slice(-15).join('\n');
  if (after.timedOut) return { refuse: true, newlyFailing: [], reason: 'the tests timed out after the change' };
  if (!a) {
    if (before.exitCode === 0) return { refuse: true, newlyFailing: [], reason: `the tests fail after the change (exit ${after.exitCode ?? after.signal}; no test counts in the output)`, output: tail };
    return { refuse: true, newlyFailing: [], reason: 'the test command fails before the change too and reports no test counts, so the change cannot be judged (fix the command, or run without tests)', output: tail };
  }
  const failedBefore = new Set(b?.failedTests ?? []);
  const newlyFailing = a.failedTests.filter((name) => !failedBefore.has(name));
  const worse = before.exitCode === 0 || !b || a.fail > b.fail || newlyFailing.length > 0;
  if (!worse) return { refuse: false, newlyFailing: [], reason: '' };
  const names = (newlyFailing.length > 0 ? newlyFailing : a.failedTests).slice(0, 10);
  const more = (newlyFailing.length > 0 ? newlyFailing : a.failedTests).length - names.length;
  return {
    refuse: true,
    newlyFailing,
    reason:
      `${newlyFailing.length > 0 ? newlyFailing.length : a.fail - (b?.fail ?? 0)} test(s) fail after the change that passed before ` +
      `(before: ${b ? `${b.fail} failed, ${b.pass} passed` : `exit ${before.exitCode}`}; after: ${a.fail} failed, ${a.pass} passed): ${names.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}` +
      `${a.firstFailure ? `; first failure: ${a.firstFailure}` : ''}`,
  };
}
