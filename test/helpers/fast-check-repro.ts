/**
 * Counterexamples travel (issue 14): every failing fast-check property (fc.assert) writes a repro file — seed, path,
 * the shrunk counterexample and the command that replays it — to reports/properties/ (MAESTRO_FC_REPRO_DIR
 * overrides it), and its failure message names the file and the command. It is fast-check's global reporter, set
 * for every jest test file (jest.config.js `setupFilesAfterEnv`), so no property has to opt in.
 * Replay: `MAESTRO_FC_SEED=<seed> npx jest <file> -t '<test name>'` runs that test's properties from that seed: the same
 * runs, the same shrinking, the same counterexample. The path replays one run directly: `fc.assert(p, { seed, path })`.
 */
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
export const DEFAULT_REPRO_DIR = path.join(ROOT, 'reports', 'properties');

export interface PropertyRepro {
  test: string;
  file: string;
  seed: number;
  path: string | null;
  /** The shrunk counterexample, as fast-check prints values. */
  counterexample: string;
  numRuns: number;
  error: string;
  replay: string;
}

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** Writes the repro of a failed run and returns its path. */
export function writeRepro(details: fc.RunDetails<unknown>, test: { name: string; file: string }, dir = process.env.MAESTRO_FC_REPRO_DIR || DEFAULT_REPRO_DIR): { file: string; repro: PropertyRepro } {
  const relative = path.relative(ROOT, test.file);
  const repro: PropertyRepro = {
    test: test.name,
    file: relative,
    seed: details.seed,
    path: details.counterexamplePath,
    counterexample: details.counterexample === null ? '(none: the run was interrupted or skipped too often)' : fc.stringify(details.counterexample),
    numRuns: details.numRuns,
    error: details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? ''),
    replay: `MAESTRO_FC_SEED=${details.seed} npx jest ${relative} -t ${shellQuote(test.name)}`,
  };
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${test.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 80).replace(/^-|-$/g, '')}.${details.seed}.json`);
  writeFileSync(file, `${JSON.stringify(repro, null, 2)}\n`);
  return { file, repro };
}

/** fast-check's default report, plus where the repro file is and how to replay it. */
export function reproReporter(details: fc.RunDetails<unknown>): void {
  if (!details.failed) return;
  const state = expect.getState();
  const message = fc.defaultReportMessage(details) ?? 'property failed';
  const { file, repro } = writeRepro(details, { name: state.currentTestName ?? 'unnamed test', file: state.testPath ?? 'unknown file' });
  throw new Error(`${message}\n\nrepro file: ${file}\nreplay: ${repro.replay}`);
}

const seed = process.env.MAESTRO_FC_SEED;
if (seed !== undefined && !/^-?\d+$/.test(seed)) throw new Error(`MAESTRO_FC_SEED must be an integer (the seed a repro file names), got '${seed}'`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), reporter: reproReporter, ...(seed !== undefined ? { seed: Number(seed) } : {}) });
