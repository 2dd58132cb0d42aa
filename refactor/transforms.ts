/**
 * The in-memory transformations behind each TypeScript codemod. They only edit the ts-morph project;
 * checking and writing is the workspace's job (workspace.ts). Each throws CodemodError on bad input,
 * naming the place, and reports `alreadyApplied` when its work is already done (so twice = once).
 */
import * as path from 'node:path';
import {
  Node,
  SyntaxKind,
  ts,
  type CallExpression,
  type ClassDeclaration,
  type FunctionDeclaration,
  type Identifier,
  type ImportDeclaration,
  type MethodDeclaration,
  type Project,
  type SourceFile,
} from 'ts-morph';
import type { Codemod } from '../core/change-request';

/** Bad codemod input (unknown symbol, ambiguous match, name collision, path outside the repo): retrying cannot help. */
export class CodemodError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodemodError';
  }
}

/** The codemods that work on the TypeScript project (replace-literal works on any text file). */
export type TsCodemod = Exclude<Codemod, { codemod: 'replace-literal' }>;

export interface TransformContext {
  root: string;
  project: Project;
  /** Repo-relative → absolute, refusing paths outside the repository. */
  resolve(repoRelative: string): string;
  repoPath(absolute: string): string;
  /** Filled by moves: old absolute path → new absolute path. */
  moves: Map<string, string>;
}

export function runTransform(ctx: TransformContext, codemod: TsCodemod): { alreadyApplied: boolean } {
  switch (codemod.codemod) {
    case 'rename-symbol':
      return rename(ctx, codemod.codemod, RENAMEABLE_DECLARATIONS, codemod.from, codemod.to, codemod.scope);
    case 'rename-function':
      return rename(ctx, codemod.codemod, FUNCTION_DECLARATIONS, codemod.from, codemod.to, codemod.file ?? codemod.scope);
    case 'rename-class':
      return rename(ctx, codemod.codemod, CLASS_DECLARATIONS, codemod.from, codemod.to, codemod.file ?? codemod.scope);
    case 'rename-method':
      return rename(ctx, codemod.codemod, METHOD_DECLARATIONS, codemod.from, codemod.to, codemod.file ?? codemod.scope, codemod.class, codemod.unresolved, codemod.related);
    case 'move-file':
      return moveFile(ctx, codemod.from, codemod.to);
    case 'move-function':
      return moveFunction(ctx, codemod.file, codemod.name, codemod.to, codemod.reexport);
    case 'add-parameter':
      return addParameter(ctx, codemod);
    case 'replace-call':
      return replaceCall(ctx, codemod.from, codemod.to, codemod.scope);
  }
}

const where = (ctx: TransformContext, node: Node): string => `${ctx.repoPath(node.getSourceFile().getFilePath())}:${node.getStartLineNumber()}`;

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function filesIn(ctx: TransformContext, scope: string): SourceFile[] {
  const dir = ctx.resolve(scope);
  const files = ctx.project.getSourceFiles().filter((sf) => isInside(dir, sf.getFilePath()));
  if (files.length === 0) throw new CodemodError(`scope '${scope}' contains no TypeScript file of the project`);
  return files;
}

// ---------------------------------------------------------------------------------------------- renames

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
const FUNCTION_DECLARATIONS = new Set<SyntaxKind>([SyntaxKind.FunctionDeclaration, SyntaxKind.VariableDeclaration]);
const CLASS_DECLARATIONS = new Set<SyntaxKind>([SyntaxKind.ClassDeclaration]);
/** Methods, and properties whose value is a function (`produce = (…) => …`, `make: (x: T) => U`): they are called alike. */
const METHOD_DECLARATIONS = new Set<SyntaxKind>([SyntaxKind.MethodDeclaration, SyntaxKind.MethodSignature, SyntaxKind.PropertyDeclaration, SyntaxKind.PropertySignature]);

/** A property that holds a function: an arrow or function initializer, or a function type. */
function isFunctionValuedProperty(node: Node): boolean {
  if (!Node.isPropertyDeclaration(node) && !Node.isPropertySignature(node)) return true;
  const init = Node.isPropertyDeclaration(node) ? node.getInitializer() : undefined;
  if (init && (Node.isArrowFunction(init) || Node.isFunctionExpression(init))) return true;
  return Node.isFunctionTypeNode(node.getTypeNode());
}

function isFunctionLikeVariable(node: Node): boolean {
  if (!Node.isVariableDeclaration(node)) return true;
  const init = node.getInitializer();
  return init !== undefined && (Node.isArrowFunction(init) || Node.isFunctionExpression(init));
}

function ownerName(node: Node): string | undefined {
  const owner = node.getParent();
  return owner && (Node.isClassDeclaration(owner) || Node.isInterfaceDeclaration(owner)) ? owner.getName() : undefined;
}

function declarationNamesIn(files: SourceFile[], kinds: Set<SyntaxKind>, name: string, className?: string): Identifier[] {
  const found: Identifier[] = [];
  for (const sf of files)
    for (const identifier of sf.getDescendantsOfKind(SyntaxKind.Identifier)) {
      if (identifier.getText() !== name) continue;
      const parent = identifier.getParent();
      if (!parent || !kinds.has(parent.getKind()) || !Node.hasName(parent) || parent.getNameNode() !== identifier) continue;
      if (kinds === FUNCTION_DECLARATIONS && !isFunctionLikeVariable(parent)) continue;
      if (kinds === METHOD_DECLARATIONS && !isFunctionValuedProperty(parent)) continue;
      if (className !== undefined && ownerName(parent) !== className) continue;
      found.push(identifier);
    }
  return found;
}

function rename(
  ctx: TransformContext,
  kind: string,
  kinds: Set<SyntaxKind>,
  from: string,
  to: string,
  scope: string,
  className?: string,
  unresolved: 'refuse' | 'rename' = 'refuse',
  related: 'refuse' | 'rename' = 'refuse',
): { alreadyApplied: boolean } {
  if (from === to) throw new CodemodError(`${kind}: from and to are the same; nothing would change`);
  const scopeAbs = ctx.resolve(scope);
  const files = ctx.project.getSourceFiles().filter((sf) => isInside(scopeAbs, sf.getFilePath()));
  const what = className ? `'${className}.${from}'` : `'${from}'`;
  const names = declarationNamesIn(files, kinds, from, className);
  if (names.length === 0) {
    if (files.length > 0 && declarationNamesIn(files, kinds, to, className).length > 0) return { alreadyApplied: true };
    throw new CodemodError(`${kind}: no declaration of ${what} in ${scope}`);
  }
  // Overloads and merged declarations share one symbol; distinct symbols with the same name are ambiguous.
  const symbols = new Set(names.map((name) => name.getSymbol() ?? name));
  if (symbols.size > 1)
    throw new CodemodError(`${kind}: ${what} is ambiguous in ${scope}: declared at ${names.map((n) => where(ctx, n)).join(', ')}; narrow the scope${kinds === METHOD_DECLARATIONS ? ' or name the class' : ''}`);

  const declaration = names[0]!;
  assertNoCollision(ctx, kind, declaration, to);
  const before = new Map(ctx.project.getSourceFiles().map((sf) => [sf.getFilePath(), sf.getFullText()]));
  let renamedAsText = false;
  if (ownerName(declaration.getParentOrThrow()) !== undefined) {
    const set = relatedSet(ctx, declaration, from);
    if (set.external.length > 0)
      throw new CodemodError(
        `${kind}: ${what} meets declarations of '${from}' outside the repository at a call site, which cannot be renamed: ${set.external.map(describeRelated).join('; ')}; leave the name, or change the call sites so they no longer meet; nothing was written`,
      );
    if (set.related.length > 0 && related === 'refuse') {
      const declarations = declarationsOf(ctx, set);
      throw new CodemodError(
        `${kind}: ${what} meets other declarations of '${from}' at a call site (a union, a cast, a shared interface or base class), which a rename would leave behind: ${set.related.map(describeRelated).join('; ')}; give "related": "rename" to rename these ${declarations.length} declarations together with their call sites (${declarations.join(', ')}), or leave the name; nothing was written`,
      );
    }
    if (set.unresolved.length > 0 && unresolved === 'refuse')
      throw new CodemodError(
        `${kind}: ${set.unresolved.length} call site(s) use '.${from}' on a receiver the type checker cannot resolve (\`any\` or untyped JavaScript), so they may call ${what}: ${set.unresolved.slice(0, 10).map((s) => s.where).join(', ')}${set.unresolved.length > 10 ? ` (and ${set.unresolved.length - 10} more)` : ''}; give "unresolved": "rename" to rename them too, or type the receivers; nothing was written`,
      );
    for (const other of set.related) {
      const node = ctx.project.getSourceFile(other.fileName)?.getDescendantAtPos(other.start);
      if (!node || !Node.isIdentifier(node)) throw new CodemodError(`${kind}: cannot find the related declaration ${describeRelated(other)}`);
      assertNoCollision(ctx, kind, node, to);
    }
    if (set.related.length > 0 || set.unresolved.length > 0) {
      // One edit per location the language service renames from any declaration of the set, plus the confirmed
      // unresolved call sites, applied as text at once (positions are all from the same, unedited texts).
      const byFile = new Map<string, { start: number; end: number; text: string }[]>();
      const edit = (fileName: string, start: number, length: number, text: string) => byFile.set(fileName, [...(byFile.get(fileName) ?? []), { start, end: start + length, text }]);
      for (const location of set.locations.values()) edit(location.fileName, location.textSpan.start, location.textSpan.length, `${location.prefixText ?? ''}${to}${location.suffixText ?? ''}`);
      for (const site of set.unresolved) edit(site.file.getFilePath(), site.start, from.length, to);
      for (const [fileName, edits] of byFile) {
        const sf = ctx.project.getSourceFile(fileName);
        if (!sf) throw new CodemodError(`${kind}: a rename location is outside the project: ${fileName}; nothing was written`);
        sf.replaceWithText(applyEdits(sf.getFullText(), edits));
      }
      renamedAsText = true;
    }
  }
  // usePrefixAndSuffixText keeps shorthand properties and re-exports meaning what they meant ({ a } → { a: b }).
  if (!renamedAsText) declaration.rename(to, { usePrefixAndSuffixText: true, renameInComments: false, renameInStrings: false });
  renameReexportsAlongside(ctx, from, to);
  if (!ctx.project.getSourceFiles().some((sf) => before.get(sf.getFilePath()) !== sf.getFullText()))
    throw new CodemodError(`${kind}: renaming ${what} changed nothing`);
  return { alreadyApplied: false };
}

/** Prefix/suffix text keeps re-exports under the old name (`export { to as from }`); a project-wide rename
 * renames the re-exported name too, with its importers, and drops the alias. */
function renameReexportsAlongside(ctx: TransformContext, from: string, to: string): void {
  for (let round = 0; round < 10; round++) {
    const aliased = ctx.project
      .getSourceFiles()
      .flatMap((sf) => sf.getExportDeclarations().flatMap((e) => e.getNamedExports()))
      .filter((s) => s.getNameNode().getText() === to && s.getAliasNode()?.getText() === from);
    if (aliased.length === 0) break;
    for (const spec of aliased) {
      if (spec.wasForgotten()) continue;
      const alias = spec.getAliasNode();
      if (alias && Node.isIdentifier(alias)) alias.rename(to, { usePrefixAndSuffixText: false, renameInComments: false, renameInStrings: false });
      if (!spec.wasForgotten() && spec.getAliasNode()?.getText() === to) spec.removeAlias();
    }
  }
}

/** A declaration of the name that meets the renamed one at a call site, and where they first met. */
interface RelatedDeclaration {
  fileName: string;
  /** Start of the declaration's name (a rename location's start). */
  start: number;
  /** `file:line Owner.name`, repo-relative when inside the repository. */
  label: string;
  /** `file:line` of the call site (or `implements`/`extends`) through which it was found. */
  via: string;
}

interface RelatedSet {
  /** Every location the language service renames from any declaration of the set, keyed `file:start`. */
  locations: Map<string, ts.RenameLocation>;
  /** Declarations beyond the language service's own rename of the target, in the repository: renamed together on request. */
  related: RelatedDeclaration[];
  /** Declarations met outside the repository (node_modules, the lib's .d.ts): they cannot be renamed. */
  external: RelatedDeclaration[];
  /** Property accesses named like the member whose receiver is `any` or unresolved. */
  unresolved: { file: SourceFile; start: number; where: string }[];
}

/** The declarations (not the uses) among a set's rename locations, as `file:line Owner.name`, sorted. */
function declarationsOf(ctx: TransformContext, set: RelatedSet): string[] {
  const labels: string[] = [];
  for (const location of set.locations.values()) {
    const node = ctx.project.getSourceFile(location.fileName)?.getDescendantAtPos(location.textSpan.start);
    const parent = node?.getParent();
    if (!node || !parent || !Node.hasName(parent) || parent.getNameNode() !== node || Node.isShorthandPropertyAssignment(parent)) continue;
    if (!(Node.isMethodDeclaration(parent) || Node.isMethodSignature(parent) || Node.isPropertyDeclaration(parent) || Node.isPropertySignature(parent) || Node.isPropertyAssignment(parent))) continue;
    const owner = parent.getParent();
    const ownerLabel = owner && (Node.isClassDeclaration(owner) || Node.isInterfaceDeclaration(owner)) ? owner.getName() : undefined;
    labels.push(`${where(ctx, parent)} ${ownerLabel ? `${ownerLabel}.` : ''}${node.getText()}`);
  }
  return labels.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

const describeRelated = (d: RelatedDeclaration): string => `${d.label} (via ${d.via})`;

/**
 * The closure of declarations of `.name` that must be renamed with `declaration`: starting from the language
 * service's own rename (which follows a class's base classes and implemented interfaces), add any other
 * declaration of the name that a call site reaches together with one already in the set — through a union, the
 * operand of a cast, or an interface member whose implementations the set does not all hold — and repeat until
 * nothing is added. Also the uses of `.name` on receivers typed `any` (or untyped JavaScript).
 */
function relatedSet(ctx: TransformContext, declaration: Identifier, name: string): RelatedSet {
  const service = ctx.project.getLanguageService().compilerObject;
  const program = ctx.project.getProgram().compilerObject;
  const checker = program.getTypeChecker();
  const locations = new Map<string, ts.RenameLocation>();
  const result: RelatedSet = { locations, related: [], external: [], unresolved: [] };
  const key = (fileName: string, start: number) => `${fileName}:${start}`;
  const lineOf = (sf: ts.SourceFile, pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const isExternal = (sf: ts.SourceFile) => sf.fileName.includes('/node_modules/') || program.isSourceFileDefaultLibrary(sf) || !isInside(ctx.root, sf.fileName);
  const describePlace = (fileName: string, start: number) => `${isInside(ctx.root, fileName) ? ctx.repoPath(fileName) : fileName}:${lineOf(program.getSourceFile(fileName)!, start)}`;
  const seen = new Set<string>();
  const queue: { fileName: string; start: number }[] = [{ fileName: declaration.getSourceFile().getFilePath(), start: declaration.getStart() }];
  seen.add(key(queue[0]!.fileName, queue[0]!.start));

  /** Adds a declaration found beyond the current locations: to the queue (in the repo) or to the external list. */
  const meet = (d: ts.Declaration, via: string): void => {
    const n = ts.getNameOfDeclaration(d);
    const dsf = d.getSourceFile();
    if (!n) return;
    const start = n.getStart(dsf);
    const k = key(dsf.fileName, start);
    if (locations.has(k) || seen.has(k)) return;
    seen.add(k);
    const owner = d.parent && (ts.isClassLike(d.parent) || ts.isInterfaceDeclaration(d.parent) || ts.isTypeLiteralNode(d.parent)) ? `${(d.parent as { name?: ts.Identifier }).name?.text ?? '{…}'}.` : '';
    const file = program.isSourceFileDefaultLibrary(dsf) ? `TypeScript's ${path.posix.basename(dsf.fileName)}` : isInside(ctx.root, dsf.fileName) ? ctx.repoPath(dsf.fileName) : dsf.fileName;
    const found: RelatedDeclaration = { fileName: dsf.fileName, start, label: `${file}:${lineOf(dsf, d.getStart(dsf))} ${owner}${name}`, via };
    if (isExternal(dsf)) result.external.push(found);
    else result.related.push(found), queue.push(found);
  };
  const isInSet = (symbol: ts.Symbol | undefined): boolean =>
    (symbol?.declarations ?? []).some((d) => {
      const n = ts.getNameOfDeclaration(d);
      return n !== undefined && locations.has(key(d.getSourceFile().fileName, n.getStart(d.getSourceFile())));
    });

  // Every declaration in the program that a property named `name` can have. The flow check below (a checker query
  // per argument, initializer and return: most of a rename's time in a large test file) can only meet one of these,
  // so once each is in the set or met it has nothing left to find and is skipped.
  const candidates = [...propertyDeclarationsNamed(program, name, key)];
  const mayMeetMore = () => candidates.some((k) => !locations.has(k) && !seen.has(k));

  for (;;) {
    for (let next = queue.shift(); next; next = queue.shift()) {
      for (const location of service.findRenameLocations(next.fileName, next.start, false, false, { providePrefixAndSuffixTextForRename: true }) ?? []) {
        const sf = program.getSourceFile(location.fileName);
        const k = key(location.fileName, location.textSpan.start);
        // The language service follows `implements`/`extends` into packages too: a place no rename may write.
        if (sf && isExternal(sf)) {
          const d = findNameAt(sf, location.textSpan.start, name);
          if (d) meet(d, `${describePlace(next.fileName, next.start)}`);
          else if (!seen.has(k)) seen.add(k), result.external.push({ fileName: location.fileName, start: location.textSpan.start, label: `${location.fileName}:${lineOf(sf, location.textSpan.start)} ${name}`, via: describePlace(next.fileName, next.start) });
        } else locations.set(k, location);
      }
      // An interface (or abstract) member's implementations meet wherever the interface is called.
      for (const impl of service.getImplementationAtPosition(next.fileName, next.start) ?? []) {
        const sf = program.getSourceFile(impl.fileName);
        const node = sf && findNameAt(sf, impl.textSpan.start, name);
        if (node) meet(node, describePlace(next.fileName, next.start));
      }
    }
    const before = result.related.length + result.external.length;
    result.unresolved = [];
    let flowsMayMeet = mayMeetMore();
    for (const file of ctx.project.getSourceFiles()) {
      if (file.isDeclarationFile() || !file.getFullText().includes(name)) continue;
      const sf = file.compilerNode;
      const visit = (node: ts.Node): void => {
        if (ts.isPropertyAccessExpression(node) && node.name.text === name) {
          const site = `${ctx.repoPath(sf.fileName)}:${lineOf(sf, node.name.getStart(sf))}`;
          const receiverType = checker.getTypeAtLocation(node.expression);
          const symbol = checker.getSymbolAtLocation(node.name);
          const inSet = locations.has(key(sf.fileName, node.name.getStart(sf)));
          if (!inSet && (receiverType.flags & ts.TypeFlags.Any || !symbol)) result.unresolved.push({ file, start: node.name.getStart(sf), where: site });
          else if (symbol) {
            // The receiver's type, and through casts the types of what was cast: each union member's own declaration.
            const types = [receiverType];
            let receiver: ts.Expression = node.expression;
            for (;;) {
              if (ts.isParenthesizedExpression(receiver)) receiver = receiver.expression;
              else if (ts.isAsExpression(receiver) || ts.isTypeAssertionExpression(receiver) || ts.isSatisfiesExpression(receiver) || ts.isNonNullExpression(receiver)) {
                receiver = receiver.expression;
                types.push(checker.getTypeAtLocation(receiver));
              } else break;
            }
            const members = types.flatMap((t) => (t.isUnion() ? t.types : [t])).map((t) => t.getProperty(name)).filter((p): p is ts.Symbol => p !== undefined);
            if (inSet || members.some(isInSet)) {
              for (const member of [symbol, ...members]) for (const d of member.declarations ?? []) meet(d, site);
              flowsMayMeet = mayMeetMore();
            }
          }
        }
        // A value flowing into another type (an argument, a typed initializer, a return, an assignment): the two
        // types' members of the name match by shape only (no `implements`), so when one is in the set, both are.
        if (flowsMayMeet && flowsIntoContextualType(node)) {
          const expected = checker.getContextualType(node as ts.Expression);
          const membersOf = (t: ts.Type | undefined) => (t ? (t.isUnion() ? t.types : [t]) : []).map((u) => u.getProperty(name)).filter((p): p is ts.Symbol => p !== undefined);
          const flowing = [...membersOf(expected), ...membersOf(checker.getTypeAtLocation(node))];
          if (flowing.some(isInSet)) {
            const site = `${ctx.repoPath(sf.fileName)}:${lineOf(sf, node.getStart(sf))}`;
            for (const member of flowing) for (const d of member.declarations ?? []) meet(d, site);
            flowsMayMeet = mayMeetMore();
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
    if (result.related.length + result.external.length === before) return result;
  }
}

const PROPERTY_DECLARATION_KINDS = new Set([
  ts.SyntaxKind.PropertyDeclaration,
  ts.SyntaxKind.PropertySignature,
  ts.SyntaxKind.MethodDeclaration,
  ts.SyntaxKind.MethodSignature,
  ts.SyntaxKind.GetAccessor,
  ts.SyntaxKind.SetAccessor,
  ts.SyntaxKind.PropertyAssignment,
  ts.SyntaxKind.ShorthandPropertyAssignment,
  ts.SyntaxKind.EnumMember,
  ts.SyntaxKind.JsxAttribute,
  // JavaScript assignment declarations: `this.name = …`, `Foo.prototype.name = …`, `exports.name = …`.
  ts.SyntaxKind.BinaryExpression,
]);
/** Declarations that are properties of their module's namespace object (or, in a script, of the global object). */
const MODULE_MEMBER_KINDS = new Set([
  ts.SyntaxKind.VariableDeclaration,
  ts.SyntaxKind.BindingElement,
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.ClassDeclaration,
  ts.SyntaxKind.EnumDeclaration,
  ts.SyntaxKind.ModuleDeclaration,
  ts.SyntaxKind.ImportEqualsDeclaration,
  ts.SyntaxKind.ExportSpecifier,
]);

/**
 * The `file:start` keys (of their names) of every declaration in `program` (the repository, its packages' .d.ts,
 * TypeScript's lib) that a property named `name` can have: a member named so (an identifier, a string or numeric
 * literal) or with a computed name whose type is that literal (`[KEY]` with `const KEY = 'name'`; a well-known
 * symbol's never is); a parameter property; a JavaScript assignment declaration or `Object.defineProperty`; a
 * module-level declaration, which is a property of its module's namespace object when some file takes that module
 * as one (namespaceModules), and always in a namespace or a script (the global object). A JavaScript file naming it
 * in a JSDoc comment (`@property`, `@typedef`) gives a key that is never met (start -1), so the caller's check stays
 * on. Keys are the caller's `keyOf`, so they compare with its own.
 */
function propertyDeclarationsNamed(program: ts.Program, name: string, keyOf: (fileName: string, start: number) => string): Set<string> {
  const checker = program.getTypeChecker();
  const found = new Set<string>();
  const moduleLevel: { sf: ts.SourceFile; n: ts.Node }[] = [];
  const key = (sf: ts.SourceFile, n: ts.Node) => keyOf(sf.fileName, n.getStart(sf));
  const wholeWord = new RegExp(`(?<![\\w$])${name.replace(/[$]/g, '\\$&')}(?![\\w$])`);
  for (const sf of program.getSourceFiles()) {
    const mayName = sf.text.includes(name);
    if (!mayName && !sf.text.includes('[')) continue;
    if (mayName && /\.(c|m)?jsx?$/.test(sf.fileName) && [...sf.text.matchAll(/\/\*\*[\s\S]*?\*\//g)].some((c) => wholeWord.test(c[0]))) found.add(keyOf(sf.fileName, -1));
    const visit = (node: ts.Node): void => {
      const property = PROPERTY_DECLARATION_KINDS.has(node.kind) || ts.isCallExpression(node) || (ts.isParameter(node) && ts.isParameterPropertyDeclaration(node, node.parent));
      const level = !property && MODULE_MEMBER_KINDS.has(node.kind) ? moduleLevelOf(node, sf) : false;
      const n = property || level ? ts.getNameOfDeclaration(node as ts.Declaration) : undefined;
      if (n) {
        const named =
          ((ts.isIdentifier(n) || ts.isPrivateIdentifier(n) || ts.isStringLiteralLike(n) || ts.isNumericLiteral(n)) && n.text === name) ||
          (ts.isComputedPropertyName(n) &&
            !(ts.isPropertyAccessExpression(n.expression) && ts.isIdentifier(n.expression.expression) && n.expression.expression.text === 'Symbol') &&
            (() => {
              const type = checker.getTypeAtLocation(n.expression);
              return (type.isStringLiteral() || type.isNumberLiteral()) && String(type.value) === name;
            })());
        if (named && level === 'module') moduleLevel.push({ sf, n });
        else if (named) found.add(key(sf, n));
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  if (moduleLevel.length > 0) {
    const taken = namespaceModules(program);
    for (const { sf, n } of moduleLevel) if (taken === 'all' || taken.has(sf.fileName)) found.add(key(sf, n));
  }
  return found;
}

/** Where a module-member declaration lives: a module's top level, a namespace's, a script's (global), or elsewhere (a local). */
function moduleLevelOf(node: ts.Node, sf: ts.SourceFile): 'module' | 'namespace' | 'script' | false {
  let holder = node.parent;
  while (holder && (ts.isVariableDeclarationList(holder) || ts.isVariableStatement(holder) || ts.isBindingElement(holder) || ts.isObjectBindingPattern(holder) || ts.isArrayBindingPattern(holder) || ts.isVariableDeclaration(holder) || ts.isNamedExports(holder) || ts.isExportDeclaration(holder)))
    holder = holder.parent;
  if (holder && ts.isModuleBlock(holder)) return 'namespace';
  if (holder === sf) return ts.isExternalModule(sf) ? 'module' : 'script';
  return false;
}

/**
 * The files some file takes as a namespace object, whose top-level declarations are then its properties: `import * as`,
 * `export * as`, `import x = require()`, `require()`, `import()`, `typeof import()`, and what those files re-export
 * (`export * from`, `export { x } from`), transitively. A `require` or `import()` of a computed name could take any: 'all'.
 */
function namespaceModules(program: ts.Program): Set<string> | 'all' {
  const checker = program.getTypeChecker();
  const taken = new Set<string>();
  const reexports = new Map<string, string[]>();
  const fileOf = (specifier: ts.Node): string | undefined => {
    const symbol = checker.getSymbolAtLocation(specifier);
    const declaration = symbol?.valueDeclaration ?? symbol?.declarations?.[0];
    return declaration && ts.isSourceFile(declaration) ? declaration.fileName : undefined;
  };
  let all = false;
  for (const sf of program.getSourceFiles()) {
    if (!/\b(import|require|export)\b/.test(sf.text)) continue;
    const take = (specifier: ts.Node) => {
      const file = fileOf(specifier);
      if (file) taken.add(file);
    };
    const visit = (node: ts.Node): void => {
      if (all) return;
      if (ts.isImportDeclaration(node) && node.importClause?.namedBindings && ts.isNamespaceImport(node.importClause.namedBindings)) take(node.moduleSpecifier);
      else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
        if (node.exportClause && ts.isNamespaceExport(node.exportClause)) take(node.moduleSpecifier);
        else {
          const file = fileOf(node.moduleSpecifier);
          if (file) reexports.set(sf.fileName, [...(reexports.get(sf.fileName) ?? []), file]);
        }
      } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) take(node.moduleReference.expression);
      else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) take(node.argument.literal);
      else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
        const [argument] = node.arguments;
        if (argument && ts.isStringLiteralLike(argument)) take(argument);
        else all = true;
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    if (all) return 'all';
  }
  const queue = [...taken];
  for (let file = queue.pop(); file; file = queue.pop())
    for (const source of reexports.get(file) ?? []) if (!taken.has(source)) taken.add(source), queue.push(source);
  return taken;
}

/** An expression in a place that gives it a contextual type a value flows into: an argument, an initializer, a return, an assignment's right side, an element. */
function flowsIntoContextualType(node: ts.Node): boolean {
  const parent = node.parent;
  if (!parent || !ts.isExpression(node)) return false;
  return (
    ((ts.isCallExpression(parent) || ts.isNewExpression(parent)) && (parent.arguments ?? []).some((a) => a === node)) ||
    ((ts.isVariableDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isParameter(parent)) && parent.initializer === node && parent.type !== undefined) ||
    (ts.isReturnStatement(parent) && parent.expression === node) ||
    (ts.isArrowFunction(parent) && parent.body === node) ||
    (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken && parent.right === node) ||
    (ts.isPropertyAssignment(parent) && parent.initializer === node) ||
    ts.isArrayLiteralExpression(parent)
  );
}

/** The member declaration named `name` whose name, or whole declaration, starts at `pos` (a rename or implementation location). */
function findNameAt(sf: ts.SourceFile, pos: number, name: string): ts.Declaration | undefined {
  let found: ts.Declaration | undefined;
  const visit = (node: ts.Node): void => {
    if (found || node.end <= pos) return;
    const n = ts.getNameOfDeclaration(node as ts.Declaration);
    if (n && ts.isIdentifier(n) && n.text === name && (n.getStart(sf) === pos || node.getStart(sf) === pos) && (ts.isMethodDeclaration(node) || ts.isMethodSignature(node) || ts.isPropertyDeclaration(node) || ts.isPropertySignature(node) || ts.isPropertyAssignment(node))) {
      found = node as ts.Declaration;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** `to` must not be declared where the renamed symbol lives: its file's top level or imports, or its class's members. */
function assertNoCollision(ctx: TransformContext, kind: string, declaration: Identifier, to: string): void {
  const decl = declaration.getParentOrThrow();
  const owner = decl.getParent();
  const clash = (where_: Node) => new CodemodError(`${kind}: '${to}' is already declared at ${where(ctx, where_)}`);
  if (owner && (Node.isClassDeclaration(owner) || Node.isInterfaceDeclaration(owner))) {
    const related: Node[] = [owner];
    if (Node.isClassDeclaration(owner)) {
      let base = owner.getBaseClass();
      while (base) related.push(base), (base = base.getBaseClass());
      related.push(...owner.getDerivedClasses());
    }
    for (const cls of related)
      for (const member of (cls as ClassDeclaration).getMembers?.() ?? (cls as unknown as { getMembers(): Node[] }).getMembers())
        if (Node.hasName(member) && member.getName() === to) throw clash(member);
    return;
  }
  const files = new Set<SourceFile>([declaration.getSourceFile()]);
  for (const ref of declaration.findReferencesAsNodes()) files.add(ref.getSourceFile());
  for (const sf of files) {
    for (const identifier of sf.getDescendantsOfKind(SyntaxKind.Identifier)) {
      if (identifier.getText() !== to) continue;
      const parent = identifier.getParent();
      if (!parent) continue;
      const isImport = Node.isImportSpecifier(parent) || Node.isImportClause(parent) || Node.isNamespaceImport(parent);
      const isDeclarationName = Node.hasName(parent) && parent.getNameNode() === identifier;
      if (isImport || (isDeclarationName && sf === declaration.getSourceFile() && RENAMEABLE_DECLARATIONS.has(parent.getKind())) || (isDeclarationName && isTopLevel(parent)))
        throw clash(identifier);
    }
  }
}

function isTopLevel(node: Node): boolean {
  const parent = node.getParent();
  if (!parent) return false;
  if (Node.isSourceFile(parent)) return true;
  if (Node.isVariableDeclarationList(parent)) return Node.isSourceFile(parent.getParent()?.getParent() ?? parent);
  return false;
}

// ------------------------------------------------------------------------------------------------ moves

function moveFile(ctx: TransformContext, from: string, to: string): { alreadyApplied: boolean } {
  const fromAbs = ctx.resolve(from);
  const toAbs = ctx.resolve(to);
  if (!TS_FILE.test(to)) throw new CodemodError(`move-file: destination '${to}' must be a TypeScript file`);
  const source = ctx.project.getSourceFile(fromAbs);
  const target = ctx.project.getSourceFile(toAbs);
  if (!source) {
    if (target) return { alreadyApplied: true };
    throw new CodemodError(`move-file: '${from}' is not a TypeScript file of the project`);
  }
  if (target || require('node:fs').existsSync(toAbs)) throw new CodemodError(`move-file: '${to}' already exists`);
  const oldPath = source.getFilePath() as string;
  const newPath = toAbs.split(path.sep).join('/');
  const resolver = moduleResolver(ctx.project);
  const oldDir = path.posix.dirname(oldPath);
  const newDir = path.posix.dirname(newPath);

  // Importers: only the relative module specifiers that resolve to the moved file are rewritten, each as a
  // text edit of its string literal (one re-parse per importer), in the specifier style it had (.js suffix,
  // directory index). Non-relative specifiers (path aliases, packages) are left as they are.
  const stem = path.posix.basename(oldPath).replace(TS_FILE, '');
  for (const sf of ctx.project.getSourceFiles()) {
    if (sf === source) continue;
    const text = sf.getFullText();
    if (stem !== 'index' && !text.includes(stem)) continue; // a specifier of the file names it (or its directory, for an index)
    const importer = sf.getFilePath() as string;
    const edits: { start: number; end: number; text: string }[] = [];
    for (const literal of moduleSpecifierLiterals(sf.compilerNode)) {
      const spec = literal.text;
      if (!isRelativeSpecifier(spec) || resolver(spec, importer) !== oldPath) continue;
      edits.push({ start: literal.getStart(sf.compilerNode) + 1, end: literal.getEnd() - 1, text: respecify(path.posix.dirname(importer), newPath, spec) });
    }
    if (edits.length > 0) sf.replaceWithText(applyEdits(text, edits));
  }
  // The moved file's own relative specifiers, now relative to its new directory.
  let movedText = source.getFullText();
  if (oldDir !== newDir) {
    const edits: { start: number; end: number; text: string }[] = [];
    for (const literal of moduleSpecifierLiterals(source.compilerNode)) {
      const spec = literal.text;
      if (!isRelativeSpecifier(spec)) continue;
      const resolved = resolver(spec, oldPath);
      const next = resolved === oldPath ? respecify(newDir, newPath, spec) : resolved && !resolved.includes('/node_modules/') ? respecify(newDir, resolved, spec) : relativeSpecifier(newDir, path.posix.resolve(oldDir, spec)) + (spec.endsWith('/') ? '/' : '');
      if (next !== spec) edits.push({ start: literal.getStart(source.compilerNode) + 1, end: literal.getEnd() - 1, text: next });
    }
    movedText = applyEdits(movedText, edits);
  }
  const moved = ctx.project.createSourceFile(newPath, movedText);
  ctx.project.removeSourceFile(source);
  ctx.moves.set(oldPath, moved.getFilePath());
  return { alreadyApplied: false };
}

const TS_FILE = /\.(?:ts|tsx|mts|cts)$/;
const isRelativeSpecifier = (spec: string): boolean => spec === '.' || spec === '..' || spec.startsWith('./') || spec.startsWith('../');

/** Resolves module specifiers the way the project's compiler options do, through the in-memory file system, cached per directory. */
function moduleResolver(project: Project): (spec: string, containingFile: string) => string | undefined {
  const options = project.getCompilerOptions();
  const host = project.getModuleResolutionHost();
  const cache = new Map<string, string | undefined>();
  return (spec, containingFile) => {
    const key = `${path.posix.dirname(containingFile)}\0${spec}`;
    if (!cache.has(key)) cache.set(key, ts.resolveModuleName(spec, containingFile, options, host).resolvedModule?.resolvedFileName);
    return cache.get(key);
  };
}

/** Every string literal a file uses as a module name: imports, exports, import =, import(), require(), import types, `declare module`. */
export function moduleSpecifierLiterals(sf: ts.SourceFile): ts.StringLiteralLike[] {
  const found: ts.StringLiteralLike[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteralLike(node.moduleSpecifier)) found.push(node.moduleSpecifier);
    else if (ts.isExternalModuleReference(node) && ts.isStringLiteralLike(node.expression)) found.push(node.expression);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments.length >= 1 &&
      ts.isStringLiteralLike(node.arguments[0]!)
    )
      found.push(node.arguments[0] as ts.StringLiteralLike);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) found.push(node.argument.literal);
    else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) found.push(node.name);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function relativeSpecifier(fromDir: string, target: string): string {
  const rel = path.posix.relative(fromDir, target);
  return rel === '' ? '.' : rel.startsWith('../') || rel === '..' ? rel : `./${rel}`;
}

const JS_EXTENSION: Record<string, string> = { '.ts': '.js', '.tsx': '.js', '.mts': '.mjs', '.cts': '.cjs', '.d.ts': '.js' };

/** The specifier from `fromDir` to `target` written the way `style` was: with a .js/.ts suffix or without, with or without `/index`. */
export function respecify(fromDir: string, target: string, style: string): string {
  const ext = /\.d\.ts$/.test(target) ? '.d.ts' : (/\.[^./]+$/.exec(target)?.[0] ?? '');
  const full = relativeSpecifier(fromDir, target);
  if (!TS_FILE.test(target)) return full; // .js, .json, …: the file name is the specifier
  const stem = full.slice(0, full.length - ext.length);
  const styleExt = /\.(?:[cm]?[jt]sx?)$/.exec(style)?.[0];
  if (styleExt && /^\.[cm]?tsx?$/.test(styleExt) && ext !== '.d.ts') return full; // allowImportingTsExtensions
  if (styleExt) return stem + (JS_EXTENSION[ext] ?? '.js');
  if (path.posix.basename(stem) === 'index' && !/(?:^|\/)index$/.test(style)) return stem === './index' ? '.' : stem.slice(0, -'/index'.length);
  return stem;
}

function applyEdits(text: string, edits: { start: number; end: number; text: string }[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The module specifier `from` uses to import `target`, in the style of `style` (keeps a `.js` suffix). */
function specifier(from: SourceFile, target: SourceFile, style?: string): string {
  const spec = from.getRelativePathAsModuleSpecifierTo(target);
  return style && /\.js$/.test(style) && !spec.endsWith('.js') ? `${spec}.js` : spec;
}

function importsOf(sf: SourceFile, target: SourceFile): ImportDeclaration[] {
  return sf.getImportDeclarations().filter((d) => d.getModuleSpecifierSourceFile() === target);
}

function addNamedImport(sf: SourceFile, target: SourceFile, name: string, alias: string | undefined, isTypeOnly: boolean, style?: string): void {
  const existing = importsOf(sf, target).find((d) => !d.getNamespaceImport() && d.isTypeOnly() === isTypeOnly);
  const spec = { name, ...(alias && alias !== name ? { alias } : {}) };
  if (existing) {
    if (!existing.getNamedImports().some((n) => n.getName() === name && (n.getAliasNode()?.getText() ?? name) === (alias ?? name))) existing.addNamedImport(spec);
  } else sf.addImportDeclaration({ moduleSpecifier: specifier(sf, target, style), namedImports: [spec], isTypeOnly });
}

function moveFunction(ctx: TransformContext, file: string, name: string, to: string, reexport: boolean): { alreadyApplied: boolean } {
  const source = ctx.project.getSourceFile(ctx.resolve(file));
  if (!source) throw new CodemodError(`move-function: '${file}' is not a TypeScript file of the project`);
  const destAbs = ctx.resolve(to);
  if (destAbs === source.getFilePath()) throw new CodemodError(`move-function: '${to}' is the file the function is in`);
  let dest = ctx.project.getSourceFile(destAbs);
  const fns = source.getFunctions().filter((f) => f.getName() === name);
  if (fns.length === 0) {
    if (dest?.getFunction(name)) return { alreadyApplied: true };
    throw new CodemodError(`move-function: no top-level function '${name}' in ${file}`);
  }
  if (!/\.(?:ts|tsx|mts|cts)$/.test(to)) throw new CodemodError(`move-function: destination '${to}' must be a TypeScript file`);
  if (!dest && require('node:fs').existsSync(destAbs)) throw new CodemodError(`move-function: '${to}' exists but is not part of the project`);
  const existing = dest?.getFunction(name) ?? dest?.getVariableDeclaration(name) ?? dest?.getClass(name) ?? dest?.getInterface(name) ?? dest?.getTypeAlias(name);
  if (existing) throw new CodemodError(`move-function: '${name}' is already declared at ${where(ctx, existing)}`);
  const fn = fns.find((f) => f.hasBody()) ?? fns[0]!;
  const style = source.getImportDeclarations()[0]?.getModuleSpecifierValue();

  // What the function needs from its file: imports to copy, exported declarations to import, nothing private.
  const neededImports: { target: SourceFile | string; name: string; alias?: string; typeOnly: boolean; kind: 'named' | 'default' | 'namespace' }[] = [];
  const neededLocals = new Set<string>();
  const ownNodes = new Set<Node>(fns);
  for (const identifier of fns.flatMap((f) => f.getDescendantsOfKind(SyntaxKind.Identifier))) {
    const symbol = identifier.getSymbol();
    for (const decl of symbol?.getDeclarations() ?? []) {
      if (decl.getSourceFile() !== source || fns.some((f) => decl === f || contains(f, decl)) || ownNodes.has(decl)) continue;
      if (Node.isImportSpecifier(decl) || Node.isImportClause(decl) || Node.isNamespaceImport(decl)) {
        const importDecl = decl.getFirstAncestorByKindOrThrow(SyntaxKind.ImportDeclaration);
        const target = importDecl.getModuleSpecifierSourceFile() ?? importDecl.getModuleSpecifierValue();
        const typeOnly = importDecl.isTypeOnly() || (Node.isImportSpecifier(decl) && decl.isTypeOnly());
        const entry = Node.isImportSpecifier(decl)
          ? { target, name: decl.getName(), alias: decl.getAliasNode()?.getText(), typeOnly, kind: 'named' as const }
          : Node.isNamespaceImport(decl)
            ? { target, name: decl.getName(), typeOnly, kind: 'namespace' as const }
            : { target, name: decl.getDefaultImport()?.getText() ?? '', typeOnly, kind: 'default' as const };
        if (!neededImports.some((n) => n.name === entry.name && n.alias === entry.alias && n.target === entry.target)) neededImports.push(entry);
      } else {
        const top = topLevelStatementOf(decl);
        if (!top) continue; // a local of an enclosing scope cannot happen for top-level functions; parameters are inside fn
        const exported = Node.isExportable(top) ? top.isExported() : false;
        if (!exported)
          throw new CodemodError(`move-function: '${name}' uses '${identifier.getText()}' (${where(ctx, decl)}), which ${file} does not export; export it or move it first`);
        neededLocals.add(identifier.getText());
      }
    }
  }
  // Importers through a namespace cannot be rewritten by name.
  for (const sf of ctx.project.getSourceFiles())
    for (const d of importsOf(sf, source))
      if (d.getNamespaceImport() && !reexport && sf.getDescendantsOfKind(SyntaxKind.PropertyAccessExpression).some((p) => p.getName() === name && p.getExpression().getText() === d.getNamespaceImport()!.getText()))
        throw new CodemodError(`move-function: ${where(ctx, d)} uses '${name}' through a namespace import of ${file}; use reexport: true`);

  const created = !dest;
  dest ??= ctx.project.createSourceFile(destAbs, '');
  for (const n of neededImports) {
    if (n.target === dest) continue;
    if (typeof n.target === 'string') {
      const spec = n.target;
      if (n.kind === 'named') dest.addImportDeclaration({ moduleSpecifier: spec, namedImports: [{ name: n.name, ...(n.alias ? { alias: n.alias } : {}) }], isTypeOnly: n.typeOnly });
      else if (n.kind === 'default') dest.addImportDeclaration({ moduleSpecifier: spec, defaultImport: n.name, isTypeOnly: n.typeOnly });
      else dest.addImportDeclaration({ moduleSpecifier: spec, namespaceImport: n.name, isTypeOnly: n.typeOnly });
    } else if (n.kind === 'named') addNamedImport(dest, n.target, n.name, n.alias, n.typeOnly, style);
    else if (n.kind === 'default') dest.addImportDeclaration({ moduleSpecifier: specifier(dest, n.target, style), defaultImport: n.name, isTypeOnly: n.typeOnly });
    else dest.addImportDeclaration({ moduleSpecifier: specifier(dest, n.target, style), namespaceImport: n.name, isTypeOnly: n.typeOnly });
  }
  for (const local of neededLocals) addNamedImport(dest, source, local, undefined, false, style);

  const wasExported = fn.isExported();
  const texts = fns.map((f) => f.getFullText().replace(/^\s*\n/, ''));
  const usedElsewhereInSource = source
    .getDescendantsOfKind(SyntaxKind.Identifier)
    .some((id) => id.getText() === name && !fns.some((f) => contains(f, id)) && !id.getFirstAncestorByKind(SyntaxKind.ExportSpecifier));
  for (const f of fns) f.remove();
  dest.addStatements((dest.getFullText().trim() === '' ? '' : '\n') + texts.join('\n').trim());
  const moved = dest.getFunctions().filter((f) => f.getName() === name);
  if (!wasExported && usedElsewhereInSource) for (const f of moved) f.setIsExported(true);

  // Rewrite importers (and re-exporters) of the function to the destination.
  for (const sf of ctx.project.getSourceFiles()) {
    if (sf === source || sf === dest) continue;
    for (const d of importsOf(sf, source)) {
      for (const spec of d.getNamedImports().filter((s) => s.getName() === name)) {
        const alias = spec.getAliasNode()?.getText();
        const typeOnly = d.isTypeOnly() || spec.isTypeOnly();
        spec.remove();
        addNamedImport(sf, dest, name, alias, typeOnly, d.getModuleSpecifierValue());
      }
      if (!d.getDefaultImport() && !d.getNamespaceImport() && d.getNamedImports().length === 0) d.remove();
    }
    for (const e of sf.getExportDeclarations().filter((e) => e.getModuleSpecifierSourceFile() === source))
      for (const spec of e.getNamedExports().filter((s) => s.getName() === name)) {
        const alias = spec.getAliasNode()?.getText();
        spec.remove();
        sf.addExportDeclaration({ moduleSpecifier: specifier(sf, dest, e.getModuleSpecifierValue()), namedExports: [{ name, ...(alias ? { alias } : {}) }] });
        if (e.getNamedExports().length === 0 && !e.isNamespaceExport()) e.remove();
      }
  }
  // The source file: import what it still uses, re-export if asked, and drop imports only the function used.
  if (usedElsewhereInSource) addNamedImport(source, dest, name, undefined, false, style);
  if (reexport && wasExported) source.addExportDeclaration({ moduleSpecifier: specifier(source, dest, style), namedExports: [name] });
  for (const d of source.getImportDeclarations()) {
    for (const spec of d.getNamedImports()) {
      const local = spec.getAliasNode()?.getText() ?? spec.getName();
      if (neededImports.some((n) => (n.alias ?? n.name) === local) && !usesIdentifier(source, local)) spec.remove();
    }
    const def = d.getDefaultImport();
    if (def && neededImports.some((n) => n.kind === 'default' && n.name === def.getText()) && !usesIdentifier(source, def.getText())) d.removeDefaultImport();
    const ns = d.getNamespaceImport();
    if (ns && neededImports.some((n) => n.kind === 'namespace' && n.name === ns.getText()) && !usesIdentifier(source, ns.getText())) d.remove();
    else if (!d.wasForgotten() && !d.getDefaultImport() && !d.getNamespaceImport() && d.getNamedImports().length === 0 && d.getImportClause()) d.remove();
  }
  if (created) dest.formatText({ indentSize: 2 });
  return { alreadyApplied: false };
}

/** `inner` is a proper descendant of `outer` (same file). */
function contains(outer: Node, inner: Node): boolean {
  return outer !== inner && outer.getSourceFile() === inner.getSourceFile() && outer.getPos() <= inner.getPos() && inner.getEnd() <= outer.getEnd();
}

function usesIdentifier(sf: SourceFile, name: string): boolean {
  return sf.getDescendantsOfKind(SyntaxKind.Identifier).some((id) => id.getText() === name && !id.getFirstAncestorByKind(SyntaxKind.ImportDeclaration));
}

function topLevelStatementOf(node: Node): Node | undefined {
  let current: Node | undefined = node;
  while (current && !Node.isSourceFile(current.getParent() ?? current)) current = current.getParent();
  return current && current.getParent() && Node.isSourceFile(current.getParent()!) ? current : undefined;
}

/** How often each name is used outside import declarations (identifiers only: the way a name refers to an import). */
function identifierUses(sf: ts.SourceFile): Map<string, number> {
  const uses = new Map<string, number>();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isImportEqualsDeclaration(node)) return;
    if (ts.isIdentifier(node)) uses.set(node.text, (uses.get(node.text) ?? 0) + 1);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return uses;
}

/**
 * Removes the imports a codemod left unused: names imported by `sf` that were used in `beforeText` and are
 * used no more. Imports that were already unused are the repository's business and stay.
 */
export function removeImportsMadeUnused(sf: SourceFile, beforeText: string): void {
  const before = identifierUses(ts.createSourceFile(sf.getFilePath(), beforeText, ts.ScriptTarget.Latest, true, scriptKindOf(sf.getFilePath())));
  const after = identifierUses(sf.compilerNode);
  const madeUnused = (name: string) => (before.get(name) ?? 0) > 0 && (after.get(name) ?? 0) === 0;
  const whole: ImportDeclaration[] = [];
  for (const d of sf.getImportDeclarations()) {
    const locals = [...d.getNamedImports().map((spec) => spec.getAliasNode()?.getText() ?? spec.getName()), d.getDefaultImport()?.getText(), d.getNamespaceImport()?.getText()].filter((n): n is string => n !== undefined);
    const unused = locals.filter(madeUnused);
    if (unused.length === 0) continue;
    if (unused.length === locals.length) whole.push(d);
    else {
      for (const spec of d.getNamedImports()) if (unused.includes(spec.getAliasNode()?.getText() ?? spec.getName())) spec.remove();
      if (unused.includes(d.getDefaultImport()?.getText() ?? '')) d.removeDefaultImport();
    }
  }
  // A whole declaration goes with its line, and nothing else (the blank line after the imports stays).
  if (whole.length === 0) return;
  const text = sf.getFullText();
  const lineEnd = (pos: number) => (text[pos] === '\r' && text[pos + 1] === '\n' ? pos + 2 : text[pos] === '\n' ? pos + 1 : pos);
  const edits = whole.map((d) => ({ start: d.getStart(), end: lineEnd(d.getEnd()), text: '' }));
  // Every import of the file's head gone: so is the blank line that separated them from the code.
  const head = edits.filter((e) => e.start === 0 || edits.some((o) => o.end === e.start));
  if (head.length > 0 && text.slice(Math.max(...head.map((e) => e.end))).match(/^\r?\n/) && sf.getImportDeclarations().every((d) => whole.includes(d))) {
    const last = head.reduce((a, b) => (a.end > b.end ? a : b));
    last.end = lineEnd(last.end);
  }
  sf.replaceWithText(applyEdits(text, edits));
}

// ------------------------------------------------------------------------------------------- signatures

type AddParameter = Extract<TsCodemod, { codemod: 'add-parameter' }>;

function addParameter(ctx: TransformContext, codemod: AddParameter): { alreadyApplied: boolean } {
  const { function: fnName, class: className, parameter, argument } = codemod;
  const files = filesIn(ctx, codemod.file ?? codemod.scope);
  const what = className ? `'${className}.${fnName}'` : `'${fnName}'`;
  const targets: (FunctionDeclaration | MethodDeclaration)[] = [];
  for (const sf of files) {
    if (className) for (const cls of sf.getClasses()) if (cls.getName() === className) targets.push(...cls.getMethods().filter((m) => m.getName() === fnName));
    if (!className) targets.push(...sf.getFunctions().filter((f) => f.getName() === fnName));
  }
  const implementations = targets.filter((t) => t.hasBody());
  if (implementations.length === 0) throw new CodemodError(`add-parameter: no ${className ? 'method' : 'function'} ${what} with a body in ${codemod.file ?? codemod.scope}`);
  if (implementations.length > 1) throw new CodemodError(`add-parameter: ${what} is ambiguous: declared at ${implementations.map((t) => where(ctx, t)).join(', ')}; name the file`);
  const fn = implementations[0]!;
  if (fn.getOverloads().length > 0) throw new CodemodError(`add-parameter: ${what} at ${where(ctx, fn)} is overloaded; overloads are not supported`);
  const params = fn.getParameters();
  // Under noUnusedParameters a parameter the body does not use yet must start with '_' for tsc to accept it.
  const paramName = ctx.project.getCompilerOptions().noUnusedParameters && !parameter.name.startsWith('_') ? `_${parameter.name}` : parameter.name;
  const existing = params.find((p) => p.getName() === parameter.name || p.getName() === paramName);
  if (existing) {
    if (existing.getInitializer()?.getText() === parameter.default) return { alreadyApplied: true };
    throw new CodemodError(`add-parameter: ${what} already has a parameter '${parameter.name}' at ${where(ctx, existing)}`);
  }
  const last = params[params.length - 1];
  if (last?.isRestParameter()) throw new CodemodError(`add-parameter: ${what} ends with a rest parameter (${where(ctx, last)}); cannot add after it`);
  const shadow = fn.getBody()?.getDescendantsOfKind(SyntaxKind.Identifier).find((id) => id.getText() === parameter.name || id.getText() === paramName);
  if (shadow) throw new CodemodError(`add-parameter: '${parameter.name}' is already used in the body of ${what} at ${where(ctx, shadow)}`);

  const position = params.length;
  const calls: CallExpression[] = [];
  if (argument !== undefined) {
    const scopeAbs = ctx.resolve(codemod.scope);
    const nameNode = fn.getNameNode();
    if (!nameNode || !Node.isIdentifier(nameNode)) throw new CodemodError(`add-parameter: ${what} at ${where(ctx, fn)} has no plain name`);
    for (const ref of nameNode.findReferencesAsNodes()) {
      if (!isInside(scopeAbs, ref.getSourceFile().getFilePath())) continue;
      const callee = Node.isPropertyAccessExpression(ref.getParent()) && ref.getParent()!.getChildAtIndex(2) === ref ? ref.getParent()! : ref;
      const call = callee.getParent();
      if (call && Node.isCallExpression(call) && call.getExpression() === callee) calls.push(call);
    }
  }
  fn.addParameter({ name: paramName, ...(parameter.type ? { type: parameter.type } : {}), initializer: parameter.default });
  for (const call of calls.sort((a, b) => b.getStart() - a.getStart())) {
    const args = call.getArguments();
    if (args.some((a) => Node.isSpreadElement(a)) || args.length > position) continue; // cannot tell where the new argument goes
    for (let i = args.length; i < position; i++) call.addArgument('undefined');
    call.addArgument(argument!);
  }
  return { alreadyApplied: false };
}

// ----------------------------------------------------------------------------------------- call patterns

interface CallPattern {
  callee: string;
  typeArgs: string;
  args: { placeholder?: string; rest?: boolean; text?: string }[];
}

const squash = (text: string): string => text.replace(/\s+/g, '');

function parseExpression(text: string, what: string): ts.Expression {
  const sf = ts.createSourceFile('pattern.ts', `(${text});`, ts.ScriptTarget.Latest, true);
  const stmt = sf.statements[0];
  const diagnostics = (sf as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics;
  if (sf.statements.length !== 1 || !stmt || !ts.isExpressionStatement(stmt) || diagnostics.length > 0)
    throw new CodemodError(`replace-call: ${what} ${JSON.stringify(text)} is not one expression`);
  let expr: ts.Expression = stmt.expression;
  while (ts.isParenthesizedExpression(expr)) expr = expr.expression;
  return expr;
}

export function parseCallPattern(text: string): CallPattern {
  const expr = parseExpression(text, 'pattern');
  if (!ts.isCallExpression(expr)) throw new CodemodError(`replace-call: pattern ${JSON.stringify(text)} must be a call such as \`f($a)\``);
  const args = expr.arguments.map((arg, i, all) => {
    const t = arg.getText();
    const m = /^\$(\$)?([A-Za-z_]\w*)$/.exec(t);
    if (m?.[1] && i !== all.length - 1) throw new CodemodError(`replace-call: ${t} must be the last argument of the pattern`);
    return m ? { placeholder: m[2]!, rest: Boolean(m[1]) } : { text: squash(t) };
  });
  if (/\$/.test(expr.expression.getText())) throw new CodemodError('replace-call: placeholders may only stand for arguments');
  return { callee: squash(expr.expression.getText()), typeArgs: squash(expr.typeArguments?.map((t) => t.getText()).join(',') ?? ''), args };
}

/** The captured argument texts when `call` matches, else undefined. */
export function matchCall(pattern: CallPattern, call: { callee: string; typeArgs: string; args: string[] }): Map<string, string> | undefined {
  if (call.callee !== pattern.callee || call.typeArgs !== pattern.typeArgs) return undefined;
  const rest = pattern.args[pattern.args.length - 1]?.rest === true;
  const fixed = rest ? pattern.args.length - 1 : pattern.args.length;
  if (rest ? call.args.length < fixed : call.args.length !== fixed) return undefined;
  const captured = new Map<string, string>();
  for (let i = 0; i < fixed; i++) {
    const p = pattern.args[i]!;
    const arg = call.args[i]!;
    if (p.placeholder !== undefined) {
      const prior = captured.get(p.placeholder);
      if (prior !== undefined && squash(prior) !== squash(arg)) return undefined;
      captured.set(p.placeholder, arg);
    } else if (p.text !== squash(arg)) return undefined;
  }
  if (rest) captured.set(pattern.args[fixed]!.placeholder!, call.args.slice(fixed).join(', '));
  return captured;
}

export function fillTemplate(template: string, captured: Map<string, string>): string {
  return template.replace(/\$\$?([A-Za-z_]\w*)/g, (_, name: string) => captured.get(name) ?? '');
}

const scriptKindOf = (file: string): ts.ScriptKind =>
  /\.tsx$/.test(file) ? ts.ScriptKind.TSX : /\.jsx$/.test(file) ? ts.ScriptKind.JSX : /\.[cm]?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;

function rawCallShape(call: ts.CallExpression, sf: ts.SourceFile) {
  return { callee: squash(call.expression.getText(sf)), typeArgs: squash(call.typeArguments?.map((t) => t.getText(sf)).join(',') ?? ''), args: call.arguments.map((a) => a.getText(sf)) };
}

/** The calls of `sf` that match, innermost first filtered: an enclosing match is redone on the rewritten text. */
function innermostMatches(sf: ts.SourceFile, pattern: CallPattern, to: string): { start: number; end: number; text: string }[] {
  const matches: { start: number; end: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const captured = matchCall(pattern, rawCallShape(node, sf));
      if (captured) {
        const text = fillTemplate(to, parenthesizeCaptured(to, captured));
        matches.push({ start: node.getStart(sf), end: node.getEnd(), text: needsParentheses(text, node) ? `(${text})` : text });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return matches.filter((m) => !matches.some((o) => o !== m && m.start <= o.start && o.end <= m.end));
}

// Precedence: an expression inserted where a call stood (or an argument inserted at a placeholder) keeps its
// meaning only if it binds at least as tightly as its slot needs; otherwise it is parenthesized. Levels follow
// the ECMAScript grammar: comma 0, assignment/arrow/yield 2, conditional 3, ?? 4, || 5, && 6, | 7, ^ 8, & 9,
// equality 10, relational/as 11, shift 12, additive 13, multiplicative 14, ** 15, unary 16, postfix 17, member/call 20.
const BINARY_PRECEDENCE = new Map<ts.SyntaxKind, number>([
  [SyntaxKind.CommaToken, 0], [SyntaxKind.QuestionQuestionToken, 4], [SyntaxKind.BarBarToken, 5], [SyntaxKind.AmpersandAmpersandToken, 6],
  [SyntaxKind.BarToken, 7], [SyntaxKind.CaretToken, 8], [SyntaxKind.AmpersandToken, 9],
  ...[SyntaxKind.EqualsEqualsToken, SyntaxKind.ExclamationEqualsToken, SyntaxKind.EqualsEqualsEqualsToken, SyntaxKind.ExclamationEqualsEqualsToken].map((k) => [k, 10] as const),
  ...[SyntaxKind.LessThanToken, SyntaxKind.GreaterThanToken, SyntaxKind.LessThanEqualsToken, SyntaxKind.GreaterThanEqualsToken, SyntaxKind.InstanceOfKeyword, SyntaxKind.InKeyword].map((k) => [k, 11] as const),
  ...[SyntaxKind.LessThanLessThanToken, SyntaxKind.GreaterThanGreaterThanToken, SyntaxKind.GreaterThanGreaterThanGreaterThanToken].map((k) => [k, 12] as const),
  [SyntaxKind.PlusToken, 13], [SyntaxKind.MinusToken, 13], [SyntaxKind.AsteriskToken, 14], [SyntaxKind.SlashToken, 14], [SyntaxKind.PercentToken, 14],
  [SyntaxKind.AsteriskAsteriskToken, 15],
]);
const binaryPrecedence = (op: ts.SyntaxKind): number =>
  op >= SyntaxKind.FirstAssignment && op <= SyntaxKind.LastAssignment ? 2 : (BINARY_PRECEDENCE.get(op) ?? 0);

function precedenceOf(expr: ts.Expression): number {
  if (ts.isBinaryExpression(expr)) return binaryPrecedence(expr.operatorToken.kind);
  if (ts.isConditionalExpression(expr)) return 3;
  if (ts.isArrowFunction(expr) || ts.isYieldExpression(expr)) return 2;
  if (ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr)) return 11;
  if (ts.isPrefixUnaryExpression(expr) || ts.isTypeOfExpression(expr) || ts.isVoidExpression(expr) || ts.isDeleteExpression(expr) || ts.isAwaitExpression(expr) || ts.isTypeAssertionExpression(expr)) return 16;
  if (ts.isPostfixUnaryExpression(expr)) return 17;
  if (ts.isSpreadElement(expr)) return 0;
  return 20;
}

/** The one top-level expression of `text`, or undefined when it is not one. */
function parseOneExpression(text: string): ts.Expression | undefined {
  const sf = ts.createSourceFile('slot.ts', `(${text});`, ts.ScriptTarget.Latest, true);
  const stmt = sf.statements[0];
  if (sf.statements.length !== 1 || !stmt || !ts.isExpressionStatement(stmt) || !ts.isParenthesizedExpression(stmt.expression)) return undefined;
  return stmt.expression.expression;
}

/** `expressionText` put at `slot` (the node it replaces) needs parentheses to keep its meaning. */
function needsParentheses(expressionText: string, slot: ts.Node): boolean {
  const expr = parseOneExpression(expressionText);
  if (!expr) return true;
  const own = precedenceOf(expr);
  const parent = slot.parent;
  if (!parent) return false;
  if (ts.isBinaryExpression(parent)) {
    const op = parent.operatorToken.kind;
    const level = binaryPrecedence(op);
    if (level === 2) return parent.left === slot ? own < 20 : own < 2; // an assignment target must be a reference
    if (level === 0) return own < 2;
    // ?? cannot be mixed with || or && without parentheses.
    const mixes = (a: ts.SyntaxKind, b: ts.SyntaxKind) => (a === SyntaxKind.QuestionQuestionToken) !== (b === SyntaxKind.QuestionQuestionToken) && [a, b].every((k) => binaryPrecedence(k) >= 4 && binaryPrecedence(k) <= 6);
    if (ts.isBinaryExpression(expr) && mixes(op, expr.operatorToken.kind)) return true;
    if (op === SyntaxKind.AsteriskAsteriskToken) return parent.left === slot ? own <= 16 : own < 15; // right-associative; no unary on its left
    return parent.left === slot ? own < level : own <= level; // left-associative
  }
  if (ts.isConditionalExpression(parent)) return parent.condition === slot ? own <= 3 : own < 2;
  if (ts.isPrefixUnaryExpression(parent) || ts.isTypeOfExpression(parent) || ts.isVoidExpression(parent) || ts.isDeleteExpression(parent) || ts.isAwaitExpression(parent) || ts.isTypeAssertionExpression(parent)) return own < 16;
  if (ts.isPostfixUnaryExpression(parent)) return own < 20;
  if (ts.isAsExpression(parent) || ts.isSatisfiesExpression(parent)) return own <= 11;
  if (ts.isPropertyAccessExpression(parent) || ts.isElementAccessExpression(parent) || ts.isNonNullExpression(parent) || ts.isTaggedTemplateExpression(parent))
    return ts.isElementAccessExpression(parent) && parent.argumentExpression === slot ? own < 2 : own < 20;
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) return parent.expression === slot ? own < 20 : own < 2;
  if (ts.isArrowFunction(parent)) return own < 2 || ts.isObjectLiteralExpression(expr);
  if (ts.isExpressionStatement(parent)) return ts.isObjectLiteralExpression(expr) || ts.isFunctionExpression(expr) || ts.isClassExpression(expr);
  if (ts.isParenthesizedExpression(parent)) return false;
  return own < 2; // initializers, arguments, return values, conditions, elements: any expression but a comma list
}

/** The captured arguments, each parenthesized where its place in the template needs it. */
function parenthesizeCaptured(template: string, captured: Map<string, string>): Map<string, string> {
  const probe = ts.createSourceFile('template.ts', `(${template.replace(/\$\$?([A-Za-z_]\w*)/g, '__maestro_$1')});`, ts.ScriptTarget.Latest, true);
  const slots = new Map<string, ts.Node[]>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text.startsWith('__maestro_')) {
      const name = node.text.slice('__maestro_'.length);
      slots.set(name, [...(slots.get(name) ?? []), node]);
    }
    ts.forEachChild(node, visit);
  };
  visit(probe);
  return new Map(
    [...captured].map(([name, text]) => [name, (slots.get(name) ?? []).some((slot) => needsParentheses(text, slot)) && !template.includes(`$$${name}`) ? `(${text})` : text]),
  );
}

function replaceCall(ctx: TransformContext, from: string, to: string, scope: string): { alreadyApplied: boolean } {
  const pattern = parseCallPattern(from);
  parseExpression(fillTemplate(to, new Map(pattern.args.map((a, i) => [a.placeholder ?? '', `__arg${i}`]))), 'replacement');
  const placeholders = new Set(pattern.args.map((a) => a.placeholder).filter(Boolean));
  for (const m of to.matchAll(/\$\$?([A-Za-z_]\w*)/g))
    if (!placeholders.has(m[1]!)) throw new CodemodError(`replace-call: the replacement uses ${m[0]}, which the pattern does not capture`);
  // A replacement that matches the pattern again would never settle (and applying twice would differ from once).
  const probe = ts.createSourceFile('probe.ts', `(${fillTemplate(to, new Map(pattern.args.map((a, i) => [a.placeholder ?? '', `__arg${i}`])))});`, ts.ScriptTarget.Latest, true);
  let selfMatch = false;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && matchCall(pattern, { callee: squash(node.expression.getText()), typeArgs: squash(node.typeArguments?.map((t) => t.getText()).join(',') ?? ''), args: node.arguments.map((a) => a.getText()) })) selfMatch = true;
    node.forEachChild(visit);
  };
  visit(probe);
  if (selfMatch) throw new CodemodError(`replace-call: the replacement ${JSON.stringify(to)} matches the pattern ${JSON.stringify(from)} again; it would not be idempotent`);

  // Matched on the compiler's own nodes (no ts-morph wrappers); rounds re-parse only the rewritten text, and
  // each changed file is replaced in the project once. A file that does not contain the callee's last name cannot match.
  const needle = /[A-Za-z_$][\w$]*$/.exec(pattern.callee)?.[0] ?? '';
  for (const sf of filesIn(ctx, scope)) {
    let text = sf.getFullText();
    if (!text.includes(needle)) continue;
    let tree: ts.SourceFile = sf.compilerNode;
    let changed = false;
    for (let round = 0; ; round++) {
      if (round > 50) throw new CodemodError(`replace-call: ${ctx.repoPath(sf.getFilePath())} did not settle after 50 rounds of replacement`);
      const matches = innermostMatches(tree, pattern, to);
      if (matches.length === 0) break;
      for (const m of matches.sort((x, y) => y.start - x.start)) text = text.slice(0, m.start) + m.text + text.slice(m.end);
      tree = ts.createSourceFile(sf.getFilePath(), text, ts.ScriptTarget.Latest, true, scriptKindOf(sf.getFilePath()));
      changed = true;
    }
    if (changed) sf.replaceWithText(text);
  }
  return { alreadyApplied: false };
}
