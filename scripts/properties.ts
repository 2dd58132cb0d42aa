/**
 * npm run properties — counts the fast-check properties (`fc.property` / `fc.asyncProperty`) that exercise
 * each hot-path module, prints the table and exits 1 when a module has fewer than MIN_PROPERTIES (issue 14,
 * DESIGN.md §5). test/unit/scripts/properties.test.ts holds the same rule inside `npm test`.
 *
 * A property counts for a module when its arguments use a value imported from that module, directly or
 * through a helper declared in the same test file (a generator, a `runGate`), so a test file that imports
 * two modules does not count each of its properties twice.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

export const MIN_PROPERTIES = 3;

/** The hot paths (the modules Stryker mutates, stryker.config.mjs): a file, or a folder counted as one module. */
export const HOT_PATH_MODULES = ['core/rollout-plan.ts', 'core/health.ts', 'core/judge.ts', 'core/risk.ts', 'core/provenance.ts', 'core/policy-rules', 'evals/scoring.ts'] as const;

export interface PropertyCount {
  module: string;
  properties: number;
  files: string[];
}

/** The hot-path module an import specifier of `fromFile` resolves to, if any. */
function hotPathOf(root: string, fromFile: string, specifier: string, modules: readonly string[]): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = path.relative(root, path.resolve(path.dirname(fromFile), specifier)).split(path.sep).join('/');
  return modules.find((m) => target === m.replace(/\.ts$/, '') || target.startsWith(`${m}/`) || target === m);
}

/** The properties of one test file, each as the set of hot-path modules it exercises. */
export function propertiesOf(root: string, file: string, source: string, modules: readonly string[] = HOT_PATH_MODULES): Set<string>[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const importedFrom = new Map<string, string>();
  const helpers = new Map<string, ts.Node>();
  for (const statement of sf.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      const module = hotPathOf(root, file, statement.moduleSpecifier.text, modules);
      if (!module || !clause || clause.isTypeOnly) continue;
      if (clause.name) importedFrom.set(clause.name.text, module);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) importedFrom.set(bindings.name.text, module);
      if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) if (!el.isTypeOnly) importedFrom.set(el.name.text, module);
    } else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) helpers.set(statement.name.text, statement);
    else if (ts.isVariableStatement(statement))
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) helpers.set(d.name.text, d);
  }

  const modulesUsedBy = (node: ts.Node): Set<string> => {
    const used = new Set<string>();
    const visited = new Set<ts.Node>();
    const visit = (n: ts.Node): void => {
      if (ts.isIdentifier(n)) {
        const module = importedFrom.get(n.text);
        if (module) used.add(module);
        const helper = helpers.get(n.text);
        if (helper && !visited.has(helper)) {
          visited.add(helper);
          visit(helper);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(node);
    return used;
  };

  /** The `it(...)` / `test(...)` / `it.each(...)(...)` call around a node. */
  const enclosingTest = (n: ts.Node): ts.CallExpression | undefined => {
    for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
      if (!ts.isCallExpression(p)) continue;
      let callee: ts.Expression = p.expression;
      while (ts.isCallExpression(callee) || ts.isPropertyAccessExpression(callee)) callee = callee.expression;
      if (ts.isIdentifier(callee) && (callee.text === 'it' || callee.text === 'test')) return p;
    }
    return undefined;
  };

  const found: Set<string>[] = [];
  const walk = (n: ts.Node): void => {
    if (
      ts.isCallExpression(n) &&
      ts.isPropertyAccessExpression(n.expression) &&
      ts.isIdentifier(n.expression.expression) &&
      n.expression.expression.text === 'fc' &&
      (n.expression.name.text === 'property' || n.expression.name.text === 'asyncProperty')
    )
    {
      const direct = n.arguments.reduce((acc, arg) => new Set([...acc, ...modulesUsedBy(arg)]), new Set<string>());
      // A property over a value the test passes in (an `it.each` table row) exercises what the test uses.
      const test = enclosingTest(n);
      found.push(direct.size === 0 && test ? modulesUsedBy(test) : direct);
    }
    ts.forEachChild(n, walk);
  };
  walk(sf);
  return found;
}

async function testFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? testFiles(path.join(dir, e.name)) : Promise.resolve(e.name.endsWith('.test.ts') ? [path.join(dir, e.name)] : []))));
  return nested.flat().sort();
}

/** Properties per hot-path module over the unit tests under `root`/test/unit. */
export async function countProperties(root: string, modules: readonly string[] = HOT_PATH_MODULES): Promise<PropertyCount[]> {
  const counts = new Map(modules.map((m) => [m, { module: m, properties: 0, files: new Set<string>() }]));
  for (const file of await testFiles(path.join(root, 'test', 'unit'))) {
    for (const used of propertiesOf(root, file, await fs.readFile(file, 'utf8'), modules))
      for (const module of used) {
        const count = counts.get(module)!;
        count.properties += 1;
        count.files.add(path.relative(root, file));
      }
  }
  return [...counts.values()].map((c) => ({ module: c.module, properties: c.properties, files: [...c.files] }));
}

export function formatTable(counts: readonly PropertyCount[], min = MIN_PROPERTIES): string {
  const rows = counts.map((c) => `| ${c.module} | ${c.properties} | ${c.properties >= min ? 'ok' : `BELOW ${min}`} | ${c.files.join(', ') || '-'} |`);
  return ['| module | properties | rule | test files |', '|---|---|---|---|', ...rows].join('\n');
}

async function main(): Promise<void> {
  const counts = await countProperties(path.resolve(__dirname, '..'));
  console.log(formatTable(counts));
  const below = counts.filter((c) => c.properties < MIN_PROPERTIES);
  if (below.length > 0) {
    console.error(`\n${below.length} hot-path module(s) with fewer than ${MIN_PROPERTIES} fast-check properties: ${below.map((c) => c.module).join(', ')}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
