/**
 * The repository's own type-check, as its `tsc -p <tsconfig> --noEmit` does it: one incremental builder program
 * per tsconfig of the repository (the root one first, then the others it keeps, e.g. a test tsconfig), over the
 * texts of the codemod's in-memory project. Files whose text did not change keep their parsed source file, so a
 * new builder program re-checks only the files the change can affect.
 */
import { existsSync } from 'node:fs';
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
  private readonly parsedFiles = new Map<string, { text: string; version: number; sf: TypeScript.SourceFile }>();
  private versionCounter = 0;

  constructor(
    private readonly typescript: typeof TypeScript,
    configFiles: string[],
    private readonly repoPath: (absolute: string) => string,
  ) {
    const ts = this.typescript;
    this.configs = configFiles.flatMap((file) => {
      const parsed = ts.getParsedCommandLineOfConfigFile(file, { noEmit: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
      return parsed ? [{ file, parsed }] : [];
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
      host.readFile = (fileName) => textOf(fileName) ?? (deleted.includes(fileName) || moves.has(fileName) ? undefined : readFile(fileName));
      const builder = ts.createSemanticDiagnosticsBuilderProgram(rootNames, config.parsed.options, host, config.builder, config.parsed.errors, config.parsed.projectReferences);
      const diagnostics = [
        ...builder.getConfigFileParsingDiagnostics(),
        ...builder.getOptionsDiagnostics(),
        ...builder.getGlobalDiagnostics(),
        ...builder.getSyntacticDiagnostics(),
        ...builder.getSemanticDiagnostics(),
      ];
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

  /** One parsed source file per path and text: unchanged files are the same object, which lets the builder reuse them. */
  private cached(fileName: string, text: string | undefined, parse: () => TypeScript.SourceFile | undefined): TypeScript.SourceFile | undefined {
    const hit = this.parsedFiles.get(fileName);
    if (hit && (text === undefined || hit.text === text)) return hit.sf;
    const sf = parse();
    if (!sf) return undefined;
    const version = ++this.versionCounter;
    (sf as unknown as { version: string }).version = String(version); // the builder compares versions to find changed files
    this.parsedFiles.set(fileName, { text: sf.text, version, sf });
    return sf;
  }
}

const ancestors = (file: string): string[] => {
  const dirs: string[] = [];
  for (let dir = path.posix.dirname(file); dir !== path.posix.dirname(dir); dir = path.posix.dirname(dir)) dirs.push(dir);
  return dirs;
};

const isInside = (dir: string, file: string): boolean => {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};
