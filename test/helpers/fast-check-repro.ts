/**
 * Counterexamples travel (issue 14): every failing fast-check property (fc.assert) writes a repro file — seed, path,
 * the shrunk counterexample and the command that replays it — to reports/properties/ (MAESTRO_FC_REPRO_DIR overrides
 * it, as the eval gate does: core/property-repro.ts), and its failure message names the file and the command. It is
 * fast-check's global reporter, set for every jest test file (jest.config.js `setupFilesAfterEnv`), so no property has
 * to opt in.
 * Replay: `MAESTRO_FC_SEED=<seed> npx jest <file> -t '<test name>'` runs that test's properties from that seed: the same
 * runs, the same shrinking, the same counterexample. The path replays one run directly: `fc.assert(p, { seed, path })`.
 */
import fc from 'fast-check';
import * as path from 'node:path';
import { PROPERTY_REPRO_DIR_ENV } from '../../core/property-repro';
import { reproOf, writePropertyRepro } from '../../evals/property-repros';

const ROOT = path.join(__dirname, '..', '..');
export const DEFAULT_REPRO_DIR = path.join(ROOT, 'reports', 'properties');

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** fast-check's default report, plus where the repro file is and how to replay it. */
export function reproReporter(details: fc.RunDetails<unknown>): void {
  if (!details.failed) return;
  const state = expect.getState();
  const message = fc.defaultReportMessage(details) ?? 'property failed';
  const test = { name: state.currentTestName ?? 'unnamed test', file: path.relative(ROOT, state.testPath ?? 'unknown file') };
  const repro = reproOf(details, test, (seed) => `MAESTRO_FC_SEED=${seed} npx jest ${test.file} -t ${shellQuote(test.name)}`);
  const file = writePropertyRepro(repro, process.env[PROPERTY_REPRO_DIR_ENV] || DEFAULT_REPRO_DIR);
  throw new Error(`${message}\n\nrepro file: ${file}\nreplay: ${repro.replay}`);
}

const seed = process.env.MAESTRO_FC_SEED;
if (seed !== undefined && !/^-?\d+$/.test(seed)) throw new Error(`MAESTRO_FC_SEED must be an integer (the seed a repro file names), got '${seed}'`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), reporter: reproReporter, ...(seed !== undefined ? { seed: Number(seed) } : {}) });
