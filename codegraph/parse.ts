/**
 * One source file → its symbols, imports, re-exports and uses, with the TypeScript parser: fast enough
 * to read thousands of files per second, and never throws on bad input — a file with syntax errors
 * comes back as `{ ok: false, error }`. Given a program's parse of the file and its checker's resolver
 * (`semantic.ts`), calls through instances are placed as well.
 */
import { ts } from 'ts-morph';
import type { SymbolKind } from '../core/codegraph';

export interface ParsedSymbol {
  /** `name` for functions and classes, `Class.method` for methods. */
  name: string;
  kind: SymbolKind;
  line: number;
  endLine: number;
}

/** A binding made by an import: `imported` is a name, 'default', or '*' (namespace / whole module). */
export interface ImportBinding {
  local: string;
  imported: string;
}

export interface ParsedImport {
  specifier: string;
  bindings: ImportBinding[];
  /**
   * Nothing of it exists at run time: `import type …`, every named binding marked `type`, or (TypeScript files)
   * an `import { X }` whose bindings are used only in type positions, which the compiler elides.
   */
  typeOnly?: boolean;
  /** typeOnly was inferred from how the bindings are used, not written (`import type`). */
  typeOnlyByUse?: boolean;
}

export interface ParsedReexport {
  specifier: string;
  /** [imported, exported] pairs, or '*' for `export * from`. */
  names: [string, string][] | '*';
}

/** A method of a class, as the graph names it: `file#Class.method`. */
export interface ResolvedMember {
  file: string;
  symbol: string;
}

/** Resolves the member a callee `x.m` names (the type checker's answer); [] when it is not a method of a repository class. */
export type MemberResolver = (callee: ts.PropertyAccessExpression | ts.Identifier) => ResolvedMember[];

/** A program's parse of the file and its checker's resolver: calls through instances are placed too. */
export interface SemanticContext {
  sourceFile: ts.SourceFile;
  resolve: MemberResolver;
}

export interface ParsedUse {
  /** The enclosing symbol (`f`, `C.m`), or null for code outside any symbol. */
  from: string | null;
  /** The local identifier used (an import binding, a local symbol, or 'this'). */
  name: string;
  /** For `ns.member` / `this.member`. */
  member?: string;
  call: boolean;
  /** The methods the type checker says `x.m` calls (name is then '#member'). */
  resolved?: ResolvedMember[];
}

export interface ParsedSource {
  ok: true;
  lines: number;
  symbols: ParsedSymbol[];
  /** Exported name → local symbol name (null when the export is not a tracked symbol, e.g. a constant). */
  exports: Record<string, string | null>;
  imports: ParsedImport[];
  reexports: ParsedReexport[];
  uses: ParsedUse[];
}

export interface ParseFailure {
  ok: false;
  lines: number;
  error: string;
}

export function scriptKindFor(file: string): ts.ScriptKind {
  if (/\.[cm]?ts$/.test(file)) return ts.ScriptKind.TS;
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  // Plain .js often carries JSX (React projects); the JSX grammar reads JSX-free JS the same way.
  return ts.ScriptKind.JSX;
}

const hasModifier = (node: ts.Node, kind: ts.SyntaxKind): boolean =>
  (ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined)?.some((m) => m.kind === kind) ?? false;

function stringLiteral(node: ts.Node | undefined): string | undefined {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;
}

const isFunctionLike = (node: ts.Node | undefined): boolean =>
  !!node && (ts.isArrowFunction(node) || ts.isFunctionExpression(node));

/** Parses one file; `ok: false` with the first syntax error when it does not parse. */
export function parseSource(file: string, text: string, semantic?: SemanticContext): ParsedSource | ParseFailure {
  const sf = semantic?.sourceFile ?? ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKindFor(file));
  const lines = sf.getLineStarts().length;
  // parseDiagnostics is internal but has been stable for years; the public route needs a whole Program.
  const diagnostics = (sf as unknown as { parseDiagnostics?: readonly ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (diagnostics.length > 0) {
    const d = diagnostics[0]!;
    const where = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return { ok: false, lines, error: `line ${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}` };
  }
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;

  // Top-level declarations that can become symbols, exported or not (an `export { f }` list may export them later).
  const declared = new Map<string, { node: ts.Node; kind: 'function' | 'class' }>();
  const exports: Record<string, string | null> = {};
  const imports: ParsedImport[] = [];
  const reexports: ParsedReexport[] = [];
  const exportedLocals = new Set<string>();
  const esImports = new Set<ParsedImport>(); // `import … from` declarations (the kind the compiler may elide)

  for (const stmt of sf.statements) {
    const exported = hasModifier(stmt, ts.SyntaxKind.ExportKeyword);
    const isDefault = hasModifier(stmt, ts.SyntaxKind.DefaultKeyword);
    if (ts.isFunctionDeclaration(stmt) || ts.isClassDeclaration(stmt)) {
      const name = stmt.name?.text ?? (isDefault ? 'default' : undefined);
      if (!name) continue;
      declared.set(name, { node: stmt, kind: ts.isFunctionDeclaration(stmt) ? 'function' : 'class' });
      if (exported) {
        exports[isDefault ? 'default' : name] = name;
        exportedLocals.add(name);
      }
    } else if (ts.isVariableStatement(stmt)) {
      for (const decl of stmt.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name)) continue;
        const name = decl.name.text;
        if (isFunctionLike(decl.initializer)) declared.set(name, { node: decl, kind: 'function' });
        else if (decl.initializer && ts.isClassExpression(decl.initializer)) declared.set(name, { node: decl, kind: 'class' });
        if (exported) {
          exports[name] = declared.has(name) ? name : null;
          if (declared.has(name)) exportedLocals.add(name);
        }
        const required = requireCall(decl.initializer);
        if (required !== undefined) {
          imports.push({ specifier: required, bindings: bindingsOfRequire(decl.name) });
        }
      }
      for (const decl of stmt.declarationList.declarations) {
        if (ts.isObjectBindingPattern(decl.name)) {
          const required = requireCall(decl.initializer);
          if (required !== undefined) imports.push({ specifier: required, bindings: bindingsOfRequire(decl.name) });
        }
      }
    } else if (ts.isImportDeclaration(stmt)) {
      const specifier = stringLiteral(stmt.moduleSpecifier);
      if (specifier === undefined) continue;
      const bindings: ImportBinding[] = [];
      const clause = stmt.importClause;
      if (clause?.name) bindings.push({ local: clause.name.text, imported: 'default' });
      const named = clause?.namedBindings;
      if (named && ts.isNamespaceImport(named)) bindings.push({ local: named.name.text, imported: '*' });
      else if (named) for (const el of named.elements) bindings.push({ local: el.name.text, imported: (el.propertyName ?? el.name).text });
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly || (!clause.name && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((el) => el.isTypeOnly)));
      const parsedImport: ParsedImport = { specifier, bindings, ...(typeOnly ? { typeOnly: true } : {}) };
      imports.push(parsedImport);
      esImports.add(parsedImport);
    } else if (ts.isImportEqualsDeclaration(stmt) && ts.isExternalModuleReference(stmt.moduleReference)) {
      const specifier = stringLiteral(stmt.moduleReference.expression);
      if (specifier !== undefined) imports.push({ specifier, bindings: [{ local: stmt.name.text, imported: '*' }] });
    } else if (ts.isExportDeclaration(stmt)) {
      const specifier = stringLiteral(stmt.moduleSpecifier);
      const clause = stmt.exportClause;
      if (specifier !== undefined) {
        if (!clause) reexports.push({ specifier, names: '*' });
        else if (ts.isNamespaceExport(clause)) reexports.push({ specifier, names: [['*', clause.name.text]] });
        else reexports.push({ specifier, names: clause.elements.map((el) => [(el.propertyName ?? el.name).text, el.name.text] as [string, string]) });
      } else if (clause && ts.isNamedExports(clause)) {
        for (const el of clause.elements) {
          const local = (el.propertyName ?? el.name).text;
          exports[el.name.text] = local; // resolved against declared symbols below
          exportedLocals.add(local);
        }
      }
    } else if (ts.isExportAssignment(stmt) && ts.isIdentifier(stmt.expression)) {
      exports['default'] = stmt.expression.text;
      exportedLocals.add(stmt.expression.text);
    }
  }

  // Local names bound by imports (an export list may re-export an import: `import { a } from './a'; export { a }`).
  const importedLocal = new Map<string, { specifier: string; imported: string }>();
  for (const imp of imports) for (const b of imp.bindings) importedLocal.set(b.local, { specifier: imp.specifier, imported: b.imported });
  for (const [exported, local] of Object.entries(exports)) {
    if (local === null || declared.has(local)) continue;
    const via = importedLocal.get(local);
    if (via) {
      delete exports[exported];
      reexports.push({ specifier: via.specifier, names: [[via.imported, exported]] });
    } else exports[exported] = null;
  }

  // Symbols: exported functions and classes, and the methods of exported classes.
  const symbols: ParsedSymbol[] = [];
  const symbolNames = new Set<string>();
  const bodyOwner = new Map<ts.Node, string>(); // node whose subtree belongs to a symbol
  for (const [name, { node, kind }] of declared) {
    if (!exportedLocals.has(name)) continue;
    symbols.push({ name, kind, line: lineOf(node.getStart(sf)), endLine: lineOf(node.end) });
    symbolNames.add(name);
    bodyOwner.set(node, name);
    const classNode = ts.isClassDeclaration(node) ? node : ts.isVariableDeclaration(node) && node.initializer && ts.isClassExpression(node.initializer) ? node.initializer : undefined;
    if (classNode) {
      for (const member of classNode.members) {
        // A method, or a property holding a function (`produce = (base, recipe) => …`): called alike.
        const isMethod = ts.isMethodDeclaration(member) || (ts.isPropertyDeclaration(member) && isFunctionLike(member.initializer));
        if (!isMethod || !member.name || !(ts.isIdentifier(member.name) || ts.isPrivateIdentifier(member.name))) continue;
        if (hasModifier(member, ts.SyntaxKind.PrivateKeyword) || ts.isPrivateIdentifier(member.name)) continue;
        const methodName = `${name}.${member.name.text}`;
        // Overload signatures and their implementation are one symbol (one node in the graph): the implementation's.
        if (symbolNames.has(methodName) || (ts.isMethodDeclaration(member) && !member.body && classNode.members.some((m) => m !== member && ts.isMethodDeclaration(m) && m.body && m.name?.getText(sf) === member.name.getText(sf)))) continue;
        symbols.push({ name: methodName, kind: 'method', line: lineOf(member.getStart(sf)), endLine: lineOf(member.end) });
        symbolNames.add(methodName);
        bodyOwner.set(member, methodName);
      }
    }
  }

  // Uses of imported bindings, local symbols and `this.method`, attributed to the enclosing symbol.
  const uses: ParsedUse[] = [];
  const seen = new Set<string>();
  const addUse = (use: ParsedUse) => {
    const key = `${use.from}\0${use.name}\0${use.member ?? ''}\0${use.call}`;
    if (!seen.has(key)) {
      seen.add(key);
      uses.push(use);
    }
  };
  const isCallee = (node: ts.Node) => {
    const parent = node.parent;
    return !!parent && (ts.isCallExpression(parent) || ts.isNewExpression(parent)) && parent.expression === node;
  };
  const enclosingClassSymbol = (from: string | null) => (from && from.includes('.') ? from.slice(0, from.indexOf('.')) : from);
  // A call `x.m()` through an instance, a base class or a static: the checker knows which method it is.
  const resolveCall = (node: ts.PropertyAccessExpression | ts.Identifier, from: string | null) => {
    if (!semantic || !isCallee(node)) return;
    const resolved = semantic.resolve(node);
    if (resolved.length > 0) uses.push({ from, name: '#member', member: ts.isIdentifier(node) ? node.text : node.name.text, call: true, resolved });
  };
  // Import bindings used in a value position (anything but types, `implements`, interfaces and type aliases).
  const valueUsed = new Set<string>();
  const visit = (node: ts.Node, from: string | null, inType = false): void => {
    const owner = bodyOwner.get(node);
    const current = owner ?? from;
    if (ts.isImportDeclaration(node) || ts.isImportEqualsDeclaration(node)) return;
    if (ts.isExportDeclaration(node)) {
      // `export { X }` of an imported X keeps the import (it may be a value); `export type { X }` does not.
      if (!node.moduleSpecifier && !node.isTypeOnly && node.exportClause && ts.isNamedExports(node.exportClause))
        for (const el of node.exportClause.elements) if (!el.isTypeOnly) valueUsed.add((el.propertyName ?? el.name).text);
      return;
    }
    if (!inType && isTypePosition(node)) {
      if (ts.isExpressionWithTypeArguments(node) && isClassExtends(node)) {
        // `class A extends B<T>`: B is a value (the base class runs), T a type.
        visit(node.expression, current, false);
        for (const t of node.typeArguments ?? []) visit(t, current, true);
        return;
      }
      inType = true;
    }
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.name)) {
      const target = node.expression;
      if (ts.isIdentifier(target) && importedLocal.get(target.text)?.imported === '*') {
        if (!inType) valueUsed.add(target.text);
        addUse({ from: current, name: target.text, member: node.name.text, call: isCallee(node) });
        return;
      }
      if (target.kind === ts.SyntaxKind.ThisKeyword) {
        const cls = enclosingClassSymbol(current);
        if (cls && symbolNames.has(`${cls}.${node.name.text}`)) addUse({ from: current, name: 'this', member: `${cls}.${node.name.text}`, call: isCallee(node) });
        else resolveCall(node, current);
        return;
      }
      visit(node.expression, current, inType); // the member name itself is not a reference
      resolveCall(node, current);
      return;
    }
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isDeclarationName =
        parent && (ts.isFunctionDeclaration(parent) || ts.isClassDeclaration(parent) || ts.isVariableDeclaration(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isParameter(parent) || ts.isBindingElement(parent) || ts.isPropertyDeclaration(parent) || ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent)) && (parent as { name?: ts.Node }).name === node;
      if (!isDeclarationName && (importedLocal.has(node.text) || symbolNames.has(node.text))) {
        if (!inType) valueUsed.add(node.text);
        addUse({ from: current, name: node.text, call: isCallee(node) });
      }
      // `const { produce } = new Immer(); produce(…)`, or an import of `export const produce = immer.produce`.
      if (!isDeclarationName && !symbolNames.has(node.text)) resolveCall(node, current);
      return;
    }
    ts.forEachChild(node, (child) => visit(child, current, inType));
  };
  for (const stmt of sf.statements) visit(stmt, null, false);
  // TypeScript elides an import none of whose bindings is used as a value: at run time it is not there.
  // (JavaScript keeps every import; a side-effect import `import './x'` has no bindings and stays.)
  if (/\.[cm]?tsx?$/.test(file))
    for (const imp of imports)
      if (esImports.has(imp) && !imp.typeOnly && imp.bindings.length > 0 && imp.bindings.every((b) => !valueUsed.has(b.local))) {
        imp.typeOnly = true;
        imp.typeOnlyByUse = true;
      }
  // Dynamic import('…') and require() outside top-level declarations still make IMPORTS edges.
  const known = new Set(imports.map((i) => i.specifier));
  const findDynamic = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const spec = stringLiteral(node.arguments[0]);
      if (spec !== undefined && (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) && !known.has(spec)) {
        known.add(spec);
        imports.push({ specifier: spec, bindings: [] });
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const spec = stringLiteral(node.argument.literal);
      if (spec !== undefined && !known.has(spec)) {
        known.add(spec);
        imports.push({ specifier: spec, bindings: [] });
      }
    }
    ts.forEachChild(node, findDynamic);
  };
  findDynamic(sf);
  return { ok: true, lines, symbols, exports, imports, reexports, uses };
}

/** Where a name stands for a type only: type nodes, `implements`, interface and type alias declarations. */
function isTypePosition(node: ts.Node): boolean {
  return ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node);
}

function isClassExtends(node: ts.ExpressionWithTypeArguments): boolean {
  const clause = node.parent;
  return ts.isHeritageClause(clause) && clause.token === ts.SyntaxKind.ExtendsKeyword && (ts.isClassDeclaration(clause.parent) || ts.isClassExpression(clause.parent));
}

function requireCall(node: ts.Expression | undefined): string | undefined {
  if (!node || !ts.isCallExpression(node)) return undefined;
  if (!ts.isIdentifier(node.expression) || node.expression.text !== 'require') return undefined;
  return stringLiteral(node.arguments[0]);
}

function bindingsOfRequire(name: ts.BindingName): ImportBinding[] {
  if (ts.isIdentifier(name)) return [{ local: name.text, imported: '*' }];
  if (ts.isObjectBindingPattern(name))
    return name.elements.flatMap((el) => (ts.isIdentifier(el.name) ? [{ local: el.name.text, imported: el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : el.name.text }] : []));
  return [];
}
