/** Specs kept with the run, and their trace against a repository's tests. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { citationsIn, renderSpecMarkdown, traceSpec, type SpecIdCitation, type SpecTrace } from '../core/spec';
import type { Spec } from '../core/stages';

/** Writes a file only when its content differs, through a temporary file and a rename (never half-written). */
async function writeIfChanged(file: string, content: string): Promise<void> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return;
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}

/** Stores a spec with the run: `<dir>/<changeId>/spec.json` and its Markdown `spec.md`; idempotent. */
export async function storeSpec(artifactsDir: string, spec: Spec): Promise<{ json: string; markdown: string }> {
  const dir = path.join(artifactsDir, spec.changeId); // changeId is schema-checked: [a-z0-9-], no separators
  await fs.mkdir(dir, { recursive: true });
  const json = path.join(dir, 'spec.json');
  const markdown = path.join(dir, 'spec.md');
  await writeIfChanged(json, JSON.stringify(spec, null, 2) + '\n');
  await writeIfChanged(markdown, renderSpecMarkdown(spec));
  return { json, markdown };
}

const TEST_FILE = /\.(?:test|spec)\.[cm]?[jt]sx?$/;

/** Every spec id cited by the test files under `dirs` (node_modules excluded), paths relative to `root`. */
export async function collectCitations(root: string, dirs: string[]): Promise<SpecIdCitation[]> {
  const citations: SpecIdCitation[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['node_modules', '.git', 'dist', '.maestro'].includes(entry.name)) await walk(full);
      } else if (TEST_FILE.test(entry.name)) {
        const rel = path.relative(root, full).split(path.sep).join('/');
        citations.push(...citationsIn(rel, await fs.readFile(full, 'utf8')));
      }
    }
  };
  for (const dir of dirs) await walk(path.resolve(root, dir));
  return citations;
}

/** The trace of `spec` against the tests under `dirs`: each id with its tests, uncovered ids flagged. */
export async function traceSpecInRepo(spec: Spec, root: string, dirs: string[] = ['.']): Promise<SpecTrace> {
  return traceSpec(spec, await collectCitations(root, dirs));
}
