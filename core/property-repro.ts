/**
 * Counterexamples travel (issue 14): what a failing fast-check property leaves behind — seed, path, the shrunk
 * counterexample and the command that replays it — as one file per failure in the directory named by
 * `MAESTRO_FC_REPRO_DIR`. Maestro's own tests write them (test/helpers/fast-check-repro.ts), and so can any repository
 * a train tests: the eval gate points the variable at a directory of its own for each test run and carries the files
 * it finds into the train's EvalReport (`propertyRepros`), so the record, `maestro explain` and the dashboard show them.
 */
import { z } from 'zod';

export const PROPERTY_REPRO_DIR_ENV = 'MAESTRO_FC_REPRO_DIR';
/** More than this many from one eval stage are counted, not carried: the first ones name the fault. */
export const MAX_CARRIED_REPROS = 10;

export const propertyReproSchema = z.object({
  test: z.string().min(1),
  file: z.string(),
  seed: z.number().int(),
  path: z.string().nullable(),
  /** The shrunk counterexample, as fast-check prints values. */
  counterexample: z.string(),
  numRuns: z.number().int().min(0),
  error: z.string(),
  replay: z.string().min(1),
});
export type PropertyRepro = z.output<typeof propertyReproSchema>;

/** A one-line account of a repro for a person: the test, the counterexample and how to replay it. */
export function describeRepro(repro: PropertyRepro): string {
  const value = repro.counterexample.length > 200 ? `${repro.counterexample.slice(0, 197)}...` : repro.counterexample;
  return `property '${repro.test}' (${repro.file}) fails for ${value} after ${repro.numRuns} run(s), seed ${repro.seed}; replay: ${repro.replay}`;
}
