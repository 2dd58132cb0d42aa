/**
 * The named codemods of `codemodSchema` (core/change-request.ts). Each computes every edit in memory first
 * and writes only when the whole change is valid, so a failing codemod leaves the working tree untouched.
 */
import { promises as fs, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { Node, Project, SyntaxKind, type Identifier } from 'ts-morph';
import type { Codemod } from '../../core/change-request';

/** Bad codemod input (unknown symbol, ambiguous match, path outside the repo): retrying cannot help. */
export class CodemodError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodemodError';
  }
}

export interface CodemodResult {
  /** Repo-relative paths (forward slashes) of the files the codemod rewrote. */
  changedFiles: string[];
}

export async function applyCodemod(repoRoot: string, codemod: Codemod): Promise<CodemodResult> {
  switch (codemod.codemod) {
    case 'rename-symbol':
      return renameSymbol(repoRoot, codemod.from, codemod.to, codemod.scope);
    case 'replace-literal':
      return replaceLiteral(repoRoot, codemod.file, codemod.from, codemod.to);
  }
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
    // Does not exist (yet): the lexical check below is all there is to check.
  }
  for (const candidate of [resolved, real]) {
    const relative = path.relative(root, candidate);
    if (relative.startsWith('..') || path.isAbsolute(relative) || relative.split(path.sep).includes('.git'))
      throw new CodemodError(`'${relativePath}' is outside the repository`);
  }
  return real;
}

const toRepoPath = (root: string, file: string): string => path.relative(root, file).split(path.sep).join('/');

/** `from` must occur exactly once in `file`: zero is an unknown literal, more is ambiguous. */
async function replaceLiteral(repoRoot: string, file: string, from: string, to: string): Promise<CodemodResult> {
  const root = realpathSync(repoRoot);
  const target = resolveInsideRepo(root, file);
  let text: string;
  try {
    text = await fs.readFile(target, 'utf8');
  } catch {
    throw new CodemodError(`replace-literal: file '${file}' does not exist in the repository`);
  }
  const first = text.indexOf(from);
  if (first < 0) throw new CodemodError(`replace-literal: ${JSON.stringify(from)} not found in ${file}`);
  const second = text.indexOf(from, first + 1);
  if (second >= 0) {
    const lines = [first, second].map((offset) => text.slice(0, offset).split('\n').length);
    throw new CodemodError(`replace-literal: ${JSON.stringify(from)} is ambiguous in ${file} (lines ${lines.join(', ')}, …); make it unique`);
  }
  if (from === to) throw new CodemodError('replace-literal: from and to are the same; nothing would change');
  await fs.writeFile(target, text.slice(0, first) + to + text.slice(first + from.length));
  return { changedFiles: [toRepoPath(root, target)] };
}

const TS_FILE_GLOBS = ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts', '!**/node_modules/**', '!**/dist/**', '!**/*.d.ts'];

/** Declaration kinds a rename may start from: the names a person means by "symbol". */
const RENAMEABLE_DECLARATIONS = new Set<SyntaxKind>([
  SyntaxKind.FunctionDeclaration,
  SyntaxKind.ClassDeclaration,
  SyntaxKind.InterfaceDeclaration,
  SyntaxKind.TypeAliasDeclaration,
  SyntaxKind.EnumDeclaration,
  SyntaxKind.EnumMember,
  SyntaxKind.VariableDeclaration,
  SyntaxKind.MethodDeclaration,
  SyntaxKind.PropertyDeclaration,
  SyntaxKind.PropertySignature,
  SyntaxKind.MethodSignature,
]);

/**
 * Renames the one symbol named `from` that is declared inside `scope`, with every reference to it.
 * The declaration is looked up only inside `scope` (that is what keeps same-named symbols elsewhere out);
 * references are renamed in every TypeScript file of the repository (node_modules and dist excluded),
 * because a rename that leaves tests or other folders pointing at the old name breaks the build.
 */
async function renameSymbol(repoRoot: string, from: string, to: string, scope: string): Promise<CodemodResult> {
  const root = realpathSync(repoRoot);
  const scopeDir = resolveInsideRepo(root, scope);
  if (from === to) throw new CodemodError('rename-symbol: from and to are the same; nothing would change');

  const tsConfigFilePath = path.join(root, 'tsconfig.json');
  const hasTsConfig = await fs.stat(tsConfigFilePath).then((s) => s.isFile(), () => false);
  const project = new Project({
    ...(hasTsConfig ? { tsConfigFilePath } : { compilerOptions: { strict: true } }),
    skipAddingFilesFromTsConfig: true,
  });
  project.addSourceFilesAtPaths(TS_FILE_GLOBS.map((glob) => (glob.startsWith('!') ? '!' + path.join(root, glob.slice(1)) : path.join(root, glob))));

  const isInScope = (file: string): boolean => {
    const relative = path.relative(scopeDir, file);
    return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
  };
  const declarationNames: Identifier[] = [];
  for (const sourceFile of project.getSourceFiles()) {
    if (!isInScope(sourceFile.getFilePath())) continue;
    for (const identifier of sourceFile.getDescendantsOfKind(SyntaxKind.Identifier)) {
      if (identifier.getText() !== from) continue;
      const parent = identifier.getParent();
      if (parent && RENAMEABLE_DECLARATIONS.has(parent.getKind()) && Node.hasName(parent) && parent.getNameNode() === identifier)
        declarationNames.push(identifier);
    }
  }
  const where = (node: Node): string => `${toRepoPath(root, node.getSourceFile().getFilePath())}:${node.getStartLineNumber()}`;
  if (declarationNames.length === 0) throw new CodemodError(`rename-symbol: no declaration of '${from}' in ${scope}`);
  // Overloads and merged declarations share one symbol; distinct symbols with the same name are ambiguous.
  const symbols = new Set(declarationNames.map((name) => name.getSymbol() ?? name));
  if (symbols.size > 1)
    throw new CodemodError(`rename-symbol: '${from}' is ambiguous in ${scope}: declared at ${declarationNames.map(where).join(', ')}; narrow the scope`);

  const declaration = declarationNames[0];
  const clash = declaration.getSourceFile().getDescendantsOfKind(SyntaxKind.Identifier).find((identifier) => {
    const parent = identifier.getParent();
    return identifier.getText() === to && parent !== undefined && Node.hasName(parent) && parent.getNameNode() === identifier;
  });
  if (clash) throw new CodemodError(`rename-symbol: '${to}' is already declared at ${where(clash)}`);

  const before = new Map(project.getSourceFiles().map((sourceFile) => [sourceFile.getFilePath(), sourceFile.getFullText()]));
  // usePrefixAndSuffixText keeps shorthand properties and re-exports meaning what they meant ({ a } → { a: b }).
  declaration.rename(to, { usePrefixAndSuffixText: true, renameInComments: false, renameInStrings: false });

  const changed = project.getSourceFiles().filter((sourceFile) => before.get(sourceFile.getFilePath()) !== sourceFile.getFullText());
  if (changed.length === 0) throw new CodemodError(`rename-symbol: renaming '${from}' changed nothing`);
  await Promise.all(changed.map((sourceFile) => fs.writeFile(sourceFile.getFilePath(), sourceFile.getFullText())));
  return { changedFiles: changed.map((sourceFile) => toRepoPath(root, sourceFile.getFilePath())).sort() };
}
