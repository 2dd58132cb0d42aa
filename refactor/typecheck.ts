/**
 * The repository's own type-check, as its `tsc -p <tsconfig> --noEmit` does it: one incremental builder program
 * per tsconfig of the repository (the root one first, then the others it keeps, e.g. a test tsconfig), over the
 * texts of the codemod's in-memory project. Files whose text did not change keep their parsed source file, so a
 * new builder program re-checks only the files the change can affect.
 *
 * Across processes, TypeScript's own incremental state (the .tsbuildinfo of `tsc --incremental`) is kept per
 * tsconfig in the repository's git directory (typecheckCacheDir): a new process starts its builder from it, so
 * the "before" check of a tree already checked re-checks nothing, and of a nearby tree only what differs and
 * what that can affect. Each file's version is a hash of its text, as `tsc --incremental` versions files.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type * as TypeScript from 'typescript';

/**
 * The repository's own TypeScript (its node_modules), else ours: the compiler version is part of what its
 * `tsc` reports.
 */
export function repoTypeScript(root: string): typeof TypeScript {
  let resolved: string;
  try {
    resolved = require.resolve('typescript', { paths: [root] });
  } catch {
    resolved = require.resolve('typescript');
  }
  return require(resolved) as typeof TypeScript;
}

export interface ConfigErrors {
  /** Repo-relative path of the tsconfig. */
  config: string;
  count: number;
  /** `file|code` → count and one sample message `file:line TSxxxx message`. */
  byKey: Map<string, { count: number; sample: string }>;
}

interface CheckedConfig {
  file: string;
  parsed: TypeScript.ParsedCommandLine;
  builder?: TypeScript.SemanticDiagnosticsBuilderProgram;
  /**
   * Where the builder's incremental state lives between processes: `virtualPath` is the path TypeScript reads and
   * writes it under (beside the tsconfig, so the file names in it are relative to the repository and the state
   * serves every worktree of it), `cacheFile` where it is really kept. Undefined: no cache.
   */
  buildInfo?: { virtualPath: string; cacheFile: string };
}

/**
 * Where the type-check keeps TypeScript's incremental state for a repository: under its git directory (shared by
 * all its worktrees, never part of a commit), in maestro/typecheck. Undefined when `root` is in no git repository.
 */
export function typecheckCacheDir(root: string): string | undefined {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, '.git');
    if (existsSync(dotGit)) {
      let gitDir = dotGit;
      if (statSync(dotGit).isFile()) {
        // A worktree: `.git` names its own git directory, whose `commondir` names the repository's.
        const named = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
        if (!named) return undefined;
        gitDir = path.resolve(dir, named);
        const commonDir = path.join(gitDir, 'commondir');
        if (existsSync(commonDir)) gitDir = path.resolve(gitDir, readFileSync(commonDir, 'utf8').trim());
      }
      return path.join(gitDir, 'maestro', 'typecheck');
    }
    if (dir === path.dirname(dir)) return undefined;
  }
}

/**
 * The tsconfig files the repository itself type-checks with: tsconfig.json (what `tsc --noEmit` reads), the
 * projects it references, and any tsconfig its package.json scripts pass to tsc (`-p`, `--project`, `-b`).
 */
export function repoTsConfigs(root: string, ts: typeof TypeScript): string[] {
  const configs: string[] = [];
  const add = (file: string) => {
    const resolved = ts.sys.directoryExists(file) ? path.join(file, 'tsconfig.json') : file;
    if (existsSync(resolved) && !configs.includes(resolved)) configs.push(resolved);
  };
  add(path.join(root, 'tsconfig.json'));
  const rootConfig = configs[0] ? ts.readConfigFile(configs[0], ts.sys.readFile).config : undefined;
  for (const ref of (rootConfig?.references ?? []) as { path?: string }[]) if (typeof ref.path === 'string') add(path.resolve(root, ref.path));
  const pkg = ts.readConfigFile(path.join(root, 'package.json'), ts.sys.readFile).config as { scripts?: Record<string, string> } | undefined;
  for (const script of Object.values(pkg?.scripts ?? {}))
    for (const m of String(script).matchAll(/\btsc\b[^&|;]*?(?:-p|--project|-b|--build)\s+([^\s&|;]+)/g)) add(path.resolve(root, m[1]!));
  return configs;
}

export class RepoTypeCheck {
  private readonly configs: CheckedConfig[];
  /** `fromDisk`: read from disk (textOf gave no text), so a later check that reads the disk may reuse it. */
  private readonly parsedFiles = new Map<string, { text: string; sf: TypeScript.SourceFile; fromDisk: boolean }>();
  /**
   * Where the last check's time went: creating the builder programs (parse, bind) and getting their diagnostics
   * (check); and how many files the builders checked (0: a state already checked, kept or in memory).
   */
  lastPhases = { program: 0, diagnostics: 0, checkedFiles: 0 };

  /** `cache`: where to keep the incremental state between processes (typecheckCacheDir) and the repository root; undefined: nowhere. */
  constructor(
    private readonly typescript: typeof TypeScript,
    configFiles: string[],
    private readonly repoPath: (absolute: string) => string,
    cache?: { dir: string; root: string },
  ) {
    const ts = this.typescript;
    this.configs = configFiles.flatMap((file) => {
      const parsed = ts.getParsedCommandLineOfConfigFile(file, { noEmit: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
      if (!parsed) return [];
      if (!cache) return [{ file, parsed }];
      // One state per tsconfig, TypeScript version and options (their paths relative to the root, the same in every
      // worktree); TypeScript itself finds which files changed since it was kept.
      const options = JSON.stringify(parsed.options).split(JSON.stringify(cache.root).slice(1, -1)).join('<root>');
      const key = createHash('sha256').update(JSON.stringify([this.repoPath(file), ts.version, options])).digest('hex').slice(0, 16);
      const virtualPath = path.join(path.dirname(file), `.maestro-typecheck-${key}.tsbuildinfo`);
      parsed.options = { ...parsed.options, incremental: true, tsBuildInfoFile: virtualPath };
      return [{ file, parsed, buildInfo: { virtualPath, cacheFile: path.join(cache.dir, `${key}.tsbuildinfo`) } }];
    });
  }

  get configNames(): string[] {
    return this.configs.map((c) => this.repoPath(c.file));
  }

  /**
   * Errors per tsconfig for the project as `textOf` has it (undefined: read from disk). `moves` maps old to new
   * absolute paths of moved files and `created` lists new files: a config that globbed the old path gets the new one.
   */
  check(textOf: (file: string) => string | undefined, moves: Map<string, string> = new Map(), created: string[] = [], deleted: string[] = []): ConfigErrors[] {
    const ts = this.typescript;
    this.lastPhases = { program: 0, diagnostics: 0, checkedFiles: 0 };
    return this.configs.map((config) => {
      const wildcardDirs = Object.keys(config.parsed.wildcardDirectories ?? {});
      const globbed = (file: string) => wildcardDirs.some((dir) => isInside(dir, file)) && /\.(?:[cm]?tsx?|[cm]?jsx?)$/.test(file) && (config.parsed.options.allowJs || !/\.[cm]?jsx?$/.test(file));
      const rootNames = [
        ...config.parsed.fileNames.flatMap((f) => {
          const moved = moves.get(f);
          if (moved) return globbed(moved) ? [moved] : [f]; // a `files` entry keeps naming the old path, as tsc would
          return deleted.includes(f) ? [] : [f];
        }),
        ...created.filter((f) => ![...moves.values()].includes(f) && globbed(f)),
      ];
      const host = ts.createCompilerHost(config.parsed.options, true);
      const getSourceFile = host.getSourceFile.bind(host);
      host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
        const text = textOf(fileName);
        if (text === undefined) {
          if (deleted.includes(fileName) || moves.has(fileName)) return undefined;
          return this.cached(fileName, undefined, () => getSourceFile(fileName, languageVersion, onError, shouldCreate));
        }
        return this.cached(fileName, text, () => ts.createSourceFile(fileName, text, languageVersion, true));
      };
      const fileExists = host.fileExists.bind(host);
      host.fileExists = (fileName) => textOf(fileName) !== undefined || (!deleted.includes(fileName) && !moves.has(fileName) && fileExists(fileName));
      const directoryExists = host.directoryExists?.bind(host);
      const inMemoryDirs = new Set([...moves.values(), ...created].flatMap((f) => ancestors(f)));
      host.directoryExists = (dir) => inMemoryDirs.has(dir.replace(/\/$/, '')) || (directoryExists ? directoryExists(dir) : ts.sys.directoryExists(dir));
      const readFile = host.readFile.bind(host);
      const buildInfo = config.buildInfo;
      host.readFile = (fileName) =>
        buildInfo && fileName === buildInfo.virtualPath ? readCache(buildInfo.cacheFile) : (textOf(fileName) ?? (deleted.includes(fileName) || moves.has(fileName) ? undefined : readFile(fileName)));
      const programStarted = performance.now();
      // The first check of a process starts from the state a previous process kept (a tree already checked
      // re-checks nothing); TypeScript discards it when its version or the options differ.
      const oldBuilder = config.builder ?? (buildInfo ? readKeptState(ts, config.parsed.options, host) : undefined);
      const builder = ts.createSemanticDiagnosticsBuilderProgram(rootNames, config.parsed.options, host, oldBuilder, config.parsed.errors, config.parsed.projectReferences);
      const diagnosticsStarted = performance.now();
      this.lastPhases.program += diagnosticsStarted - programStarted;
      // The files the change can affect, checked one by one (the builder's own walk, which tsc --watch uses); the
      // full list below then comes from the builder's state. A change that affects the whole program counts once.
      while (builder.getSemanticDiagnosticsOfNextAffectedFile()) this.lastPhases.checkedFiles++;
      const diagnostics = [
        ...builder.getConfigFileParsingDiagnostics(),
        ...builder.getOptionsDiagnostics(),
        ...builder.getGlobalDiagnostics(),
        ...builder.getSyntacticDiagnostics(),
        ...builder.getSemanticDiagnostics(),
      ];
      this.lastPhases.diagnostics += performance.now() - diagnosticsStarted;
      const next = { config: this.repoPath(config.file), count: 0, byKey: new Map<string, { count: number; sample: string }>() };
      for (const d of diagnostics) {
        if (d.category !== ts.DiagnosticCategory.Error) continue;
        const file = d.file?.fileName ?? '<global>';
        const key = `${file}|${d.code}`;
        const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        const entry = next.byKey.get(key) ?? { count: 0, sample: `${d.file ? this.repoPath(file) : file}:${line} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}` };
        entry.count++;
        next.byKey.set(key, entry);
        next.count++;
      }
      return { builder, result: next, config };
    }).map(({ builder, result, config }) => {
      config.builder = builder;
      return result;
    });
  }

  /**
   * Keeps each config's incremental state (as the last check left it) for the next process: call it when that
   * state is the tree on disk (after the check before any change, and after a change is written).
   */
  saveState(): void {
    for (const config of this.configs) {
      const { builder, buildInfo } = config;
      if (!builder || !buildInfo) continue;
      // With noEmit, a builder's emit writes only its .tsbuildinfo (what `tsc --incremental --noEmit` keeps).
      builder.emit(undefined, (fileName, text) => {
        if (fileName !== buildInfo.virtualPath) return;
        try {
          mkdirSync(path.dirname(buildInfo.cacheFile), { recursive: true });
          const partial = `${buildInfo.cacheFile}.${process.pid}.tmp`;
          writeFileSync(partial, text);
          renameSync(partial, buildInfo.cacheFile); // whole or not at all, whoever reads it concurrently
        } catch {
          // A cache that cannot be written costs the next process a full check, nothing else.
        }
      });
    }
  }

  /** One parsed source file per path and text: unchanged files are the same object, which lets the builder reuse them. */
  private cached(fileName: string, text: string | undefined, parse: () => TypeScript.SourceFile | undefined): TypeScript.SourceFile | undefined {
    const hit = this.parsedFiles.get(fileName);
    if (hit && (text === undefined ? hit.fromDisk : hit.text === text)) return hit.sf;
    const sf = parse();
    if (!sf) return undefined;
    // The builder compares versions to find changed files, here and against a kept state: a hash of the text.
    (sf as unknown as { version: string }).version = createHash('sha256').update(sf.text).digest('base64');
    this.parsedFiles.set(fileName, { text: sf.text, sf, fromDisk: text === undefined });
    return sf;
  }
}

/** TypeScript's state as a previous process kept it; a state it cannot read is none (the check then starts cold). */
const readKeptState = (ts: typeof TypeScript, options: TypeScript.CompilerOptions, host: TypeScript.CompilerHost): TypeScript.EmitAndSemanticDiagnosticsBuilderProgram | undefined => {
  try {
    return ts.readBuilderProgram(options, host);
  } catch {
    return undefined;
  }
};

const readCache = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

const ancestors = (file: string): string[] => {
  const dirs: string[] = [];
  for (let dir = path.posix.dirname(file); dir !== path.posix.dirname(dir); dir = path.posix.dirname(dir)) dirs.push(dir);
  return dirs;
};

const isInside = (dir: string, file: string): boolean => {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};
