/**
 * The type checker's view of a commit, for the calls the parser alone cannot place: a method called
 * through an instance (`new Foo().bar()`, `this.store.get()`, a parameter typed `Foo`) resolves to
 * the class that declares it.
 *
 * One ts Program over every source file of the commit (allowJs, so JavaScript tests count too), with
 * the compiler options of the commit's own tsconfig.json: its `paths`, `jsx`, `target`, `types`…; the
 * root names are all the tree's source files, not the tsconfig's `include`, because tests a tsconfig
 * leaves out call methods too. Texts come from the commit's blobs, TypeScript's lib files from its
 * install; packages are not read (an import of one is `any`): the graph of a commit does not depend on
 * what happens to be installed, and a test importing vitest does not load @types/node (it cost
 * superjson's program three quarters of its time). Programs are kept per repository: the next commit's
 * program reuses every unchanged file's parse (`oldProgram`), so an incremental ingest pays for the
 * files it changed plus the type queries it makes; lib files are parsed once per process.
 */
import path from 'node:path';
import { ts } from 'ts-morph';
import { scriptKindFor, type MemberResolver, type ResolvedMember } from './parse';

/** Past this many source files the ingest stays syntactic: one Program would hold too much memory. */
export const MAX_SEMANTIC_FILES = 20_000;

/** Repository texts a program is made of: source files, declaration files and tsconfig files of the commit. */
export const isProgramText = (file: string): boolean => /(^|\/)tsconfig[^/]*\.json$/.test(file) || file.endsWith('.d.ts');

export interface CommitProgram {
  /** The program's parse of a repository file (the same node objects the resolver expects). */
  sourceFile(file: string): ts.SourceFile | undefined;
  resolver: MemberResolver;
  /** tsconfig.json's problem, when its options could not be used (the program then uses defaults). */
  configProblem?: string;
}

interface Kept {
  sha: string;
  program: ts.Program;
  texts: Map<string, string>;
}

const kept = new Map<string, Kept>();
/** TypeScript's lib files (lib.es2020.d.ts…), parsed once per process: they never change. */
const libFiles = new Map<string, ts.SourceFile>();

/** A copy of the texts of the program kept for `repo` at commit `sha`; undefined when none is. */
export function keptTexts(repo: string, sha: string): Map<string, string> | undefined {
  const k = kept.get(path.resolve(repo));
  return k && k.sha === sha ? new Map(k.texts) : undefined;
}

/** Forgets a repository's program (memory), e.g. when its store is dropped. */
export function forgetProgram(repo: string): void {
  kept.delete(path.resolve(repo));
}

/**
 * A program over `texts` (repo-relative path → text: the commit's source files, .d.ts and tsconfig
 * files) of the repository at `repo`; `sources` are the root names.
 */
export function commitProgram(repo: string, sha: string, texts: ReadonlyMap<string, string>, sources: readonly string[]): CommitProgram {
  const root = path.resolve(repo);
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
  const inRepo = (abs: string) => {
    const r = rel(abs);
    return r !== '' && !r.startsWith('..') && !path.isAbsolute(r);
  };
  const textOf = (abs: string): string | undefined => (inRepo(abs) ? texts.get(rel(abs)) : undefined);
  const { options, problem } = compilerOptions(root, texts);
  // Only the commit's files and TypeScript's lib exist: neither a working-tree file the commit lacks nor a package.
  const libDir = path.dirname(ts.getDefaultLibFilePath(options));
  const onDisk = (abs: string) => path.dirname(abs) === libDir;
  const previous = kept.get(root);
  const host = ts.createCompilerHost(options, true);
  const diskSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = textOf(fileName);
    if (text === undefined) {
      if (!onDisk(fileName)) return undefined;
      let lib = libFiles.get(fileName);
      if (!lib) {
        lib = diskSourceFile(fileName, languageVersion, onError, shouldCreate);
        if (lib) libFiles.set(fileName, lib);
      }
      return lib;
    }
    // An unchanged file keeps its parse: the new program reuses it and the checker's work on it.
    const old = previous?.program.getSourceFile(fileName);
    if (old && old.text === text) return old;
    return ts.createSourceFile(fileName, text, languageVersion, true, scriptKindFor(fileName));
  };
  const diskExists = host.fileExists.bind(host);
  host.fileExists = (f) => textOf(f) !== undefined || (onDisk(f) && diskExists(f));
  const diskRead = host.readFile.bind(host);
  host.readFile = (f) => textOf(f) ?? (onDisk(f) ? diskRead(f) : undefined);
  host.getCurrentDirectory = () => root;
  // The commit's directories, not the disk's: the working tree may lack them (or hold others).
  const dirs = new Set<string>([root]);
  for (const f of texts.keys()) for (let d = path.dirname(path.join(root, f)); d.length > root.length && !dirs.has(d); d = path.dirname(d)) dirs.add(d);
  host.directoryExists = (dir) => (inRepo(dir) || dir === root ? dirs.has(path.resolve(dir)) : path.resolve(dir) === libDir);
  const program = ts.createProgram({ rootNames: sources.map((s) => path.join(root, s)), options, host, ...(previous ? { oldProgram: previous.program } : {}) });
  kept.set(root, { sha, program, texts: new Map(texts) });
  const checker = program.getTypeChecker();
  const sourceFile = (file: string) => program.getSourceFile(path.join(root, file));

  /** The class members a symbol stands for, following one level of `x = obj.m`, `x = obj.m.bind(obj)` and `{ m } = obj`. */
  const membersOf = (symbol: ts.Symbol | undefined, depth: number): ResolvedMember[] => {
    if (!symbol) return [];
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const out: ResolvedMember[] = [];
    const push = (m: ResolvedMember) => {
      if (!out.some((o) => o.file === m.file && o.symbol === m.symbol)) out.push(m);
    };
    for (const decl of symbol.declarations ?? []) {
      const member = classMember(decl);
      if (member) {
        push(member);
        continue;
      }
      if (depth > 0) continue;
      if (ts.isBindingElement(decl) && ts.isObjectBindingPattern(decl.parent)) {
        const key = decl.propertyName ?? decl.name;
        if (!ts.isIdentifier(key)) continue;
        const property = checker.getTypeAtLocation(decl.parent).getProperty(key.text);
        for (const m of membersOf(property, depth + 1)) push(m);
      } else if (ts.isVariableDeclaration(decl) && decl.initializer) {
        let init: ts.Expression = decl.initializer;
        // `obj.m.bind(obj)` is obj.m
        if (ts.isCallExpression(init) && ts.isPropertyAccessExpression(init.expression) && init.expression.name.text === 'bind') init = init.expression.expression;
        if (ts.isPropertyAccessExpression(init)) for (const m of membersOf(checker.getSymbolAtLocation(init.name), depth + 1)) push(m);
      }
    }
    return out;
  };
  const classMember = (decl: ts.Declaration): ResolvedMember | undefined => {
    const isMethod = ts.isMethodDeclaration(decl) || (ts.isPropertyDeclaration(decl) && !!decl.initializer && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer)));
    if (!isMethod || !ts.isClassLike(decl.parent)) return undefined;
    if (ts.isMethodDeclaration(decl) && !decl.body && hasImplementation(decl, decl.parent)) return undefined;
    const className = classNameOf(decl.parent);
    const name = decl.name;
    const methodName = name && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) ? name.text : undefined;
    if (!className || !methodName) return undefined;
    const abs = decl.getSourceFile().fileName;
    if (!inRepo(abs) || textOf(abs) === undefined) return undefined;
    return { file: rel(abs), symbol: `${className}.${methodName}` };
  };
  // Asking the checker about `expect(x).toBe()` infers expect's generics for nothing: only names some
  // class of the repository declares as a member are asked about (the rest cannot resolve to one).
  const memberNames = new Set<string>();
  for (const source of sources) {
    const sf = sourceFile(source);
    if (!sf) continue;
    const collect = (node: ts.Node): void => {
      if (ts.isClassLike(node)) for (const m of node.members) if (m.name && (ts.isIdentifier(m.name) || ts.isPrivateIdentifier(m.name))) memberNames.add(m.name.text);
      ts.forEachChild(node, collect);
    };
    collect(sf);
  }
  const resolver: MemberResolver = (callee) => {
    if (!memberNames.has(ts.isIdentifier(callee) ? callee.text : callee.name.text)) return [];
    try {
      return membersOf(checker.getSymbolAtLocation(ts.isIdentifier(callee) ? callee : callee.name), 0);
    } catch {
      return []; // the checker can fail on code it does not understand; the call stays unresolved
    }
  };
  return { sourceFile, resolver, ...(problem ? { configProblem: problem } : {}) };
}

/** Overload signatures resolve to their implementation, which carries the symbol. */
function hasImplementation(decl: ts.MethodDeclaration, cls: ts.ClassLikeDeclaration): boolean {
  const name = decl.name.getText();
  return cls.members.some((m) => m !== decl && ts.isMethodDeclaration(m) && !!m.body && m.name.getText() === name);
}

/** The name the parser gives a class: its declared name, `default`, or the variable a class expression is assigned to. */
function classNameOf(node: ts.Node): string | undefined {
  if (ts.isClassDeclaration(node)) {
    if (node.name) return node.name.text;
    const isDefault = ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
    return isDefault ? 'default' : undefined;
  }
  if (ts.isClassExpression(node) && ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)) return node.parent.name.text;
  return undefined;
}

/** tsconfig.json's compiler options (following `extends` in the commit or node_modules), made fit for reading. */
function compilerOptions(root: string, texts: ReadonlyMap<string, string>): { options: ts.CompilerOptions; problem?: string } {
  const fallback: ts.CompilerOptions = { target: ts.ScriptTarget.Latest, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, jsx: ts.JsxEmit.Preserve, esModuleInterop: true };
  let options = fallback;
  let problem: string | undefined;
  const configText = texts.get('tsconfig.json');
  if (configText !== undefined) {
    const json = ts.parseConfigFileTextToJson(path.join(root, 'tsconfig.json'), configText);
    if (json.error) problem = `tsconfig.json: ${ts.flattenDiagnosticMessageText(json.error.messageText, ' ')}`;
    else {
      const inRepo = (abs: string) => !path.relative(root, abs).startsWith('..');
      const relOf = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
      const parseHost: ts.ParseConfigHost = {
        useCaseSensitiveFileNames: ts.sys.useCaseSensitiveFileNames,
        readDirectory: () => [], // the root names are the tree's source files, not the tsconfig's include
        fileExists: (f) => (inRepo(f) && texts.has(relOf(f))) || ts.sys.fileExists(f),
        readFile: (f) => (inRepo(f) ? texts.get(relOf(f)) : undefined) ?? ts.sys.readFile(f),
      };
      const parsed = ts.parseJsonConfigFileContent(json.config, parseHost, root, undefined, path.join(root, 'tsconfig.json'));
      const fatal = parsed.errors.filter((e) => e.category === ts.DiagnosticCategory.Error && e.code !== 18003); // 18003: no inputs found (readDirectory is empty on purpose)
      if (fatal.length > 0) problem = `tsconfig.json: ${ts.flattenDiagnosticMessageText(fatal[0]!.messageText, ' ')}`;
      options = parsed.options;
    }
  }
  return {
    // Reading, not building: every file is a root, JavaScript too; nothing is emitted, nor built by reference;
    // no @types package is loaded that the tsconfig does not name (they cost most of the start-up, and
    // declare no repository class).
    options: { ...options, types: options.types ?? [], allowJs: true, checkJs: false, noEmit: true, skipLibCheck: true, composite: false, incremental: false, declaration: false, noResolve: false, isolatedModules: false },
    ...(problem ? { problem } : {}),
  };
}
