/**
 * A small import graph of one commit, read straight from git (no work tree): for the risk check's
 * centrality factor. Relative imports only (`import … from './x'`, `export … from`, `require('./x')`,
 * dynamic `import('./x')`), resolved like Node/TypeScript (extensions, index files, .js → .ts).
 * Kept inside the harness so evals do not depend on the code-graph store's internals.
 */
import * as path from 'node:path';
import { git } from '../../io/git';

const SOURCE = /\.(?:[cm]?[jt]sx?)$/;
const EXTENSIONS = ['', '.ts', '.tsx', '.js', '.jsx', '.mts', '.cts', '.mjs', '.cjs', '/index.ts', '/index.tsx', '/index.js'];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;

export interface ImportGraph {
  sourceFiles: string[];
  importers: Map<string, Set<string>>;
}

export async function importGraphAt(repo: string, sha: string): Promise<ImportGraph> {
  const files = (await git(repo, ['ls-tree', '-r', '-z', '--name-only', sha])).stdout.split('\0').filter(Boolean);
  const all = new Set(files);
  const sourceFiles = files.filter((f) => SOURCE.test(f) && !f.endsWith('.d.ts') && !f.includes('node_modules/'));
  const importers = new Map<string, Set<string>>();
  for (const file of sourceFiles) {
    const text = (await git(repo, ['show', `${sha}:${file}`])).stdout;
    for (const match of text.matchAll(IMPORT)) {
      const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[2]));
      const stem = joined.replace(/\.[cm]?js$/, '');
      const target = [...EXTENSIONS.map((e) => joined + e), ...EXTENSIONS.map((e) => stem + e)].find((c) => all.has(c) && SOURCE.test(c));
      if (!target || target === file) continue;
      if (!importers.has(target)) importers.set(target, new Set());
      importers.get(target)!.add(file);
    }
  }
  return { sourceFiles, importers };
}
