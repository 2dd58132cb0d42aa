/**
 * Writes and reads repro files of failing fast-check properties (core/property-repro.ts): the writer for jest's
 * global fast-check reporter (test/helpers/fast-check-repro.ts) and any test suite that follows the convention, the
 * reader for the eval gate, which collects what a repository's test run wrote into its `MAESTRO_FC_REPRO_DIR`.
 */
import { promises as fs, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { propertyReproSchema, type PropertyRepro } from '../core/property-repro';

/** The repro of a failed fast-check run; `replay` is the command that runs it again from its seed. */
export function reproOf(details: fc.RunDetails<unknown>, test: { name: string; file: string }, replay: (seed: number) => string): PropertyRepro {
  return {
    test: test.name,
    file: test.file,
    seed: details.seed,
    path: details.counterexamplePath,
    counterexample: details.counterexample === null ? '(none: the run was interrupted or skipped too often)' : fc.stringify(details.counterexample),
    numRuns: details.numRuns,
    error: details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? ''),
    replay: replay(details.seed),
  };
}

/** Writes a repro as `<test name>.<seed>.json` in `dir`; returns the file's path. */
export function writePropertyRepro(repro: PropertyRepro, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${repro.test.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 80).replace(/^-|-$/g, '')}.${repro.seed}.json`);
  writeFileSync(file, `${JSON.stringify(repro, null, 2)}\n`);
  return file;
}

/**
 * Every repro file in `dir` (none when it does not exist), sorted by test and seed. A JSON file not of the shape is
 * skipped: the directory is the test run's to write, and only what parses as a repro is evidence.
 */
export async function readPropertyRepros(dir: string): Promise<PropertyRepro[]> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
  const repros: PropertyRepro[] = [];
  for (const name of names) {
    const text = await fs.readFile(path.join(dir, name), 'utf8');
    const parsed = propertyReproSchema.safeParse(safeJson(text));
    if (parsed.success) repros.push(parsed.data);
  }
  return repros.sort((a, b) => a.test.localeCompare(b.test) || a.seed - b.seed);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
