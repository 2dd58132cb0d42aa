import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readPropertyRepros } from '../../../evals/property-repros';

// A property that fails for every n ≥ 10: fast-check shrinks any failure to exactly 10.
const belowTen = fc.property(fc.integer({ min: 0, max: 1000 }), (n) => {
  if (n >= 10) throw new Error(`${n} is not below 10`);
});

describe('a failing property leaves a repro file (jest setup test/helpers/fast-check-repro.ts)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-fc-repro-'));
    process.env.MAESTRO_FC_REPRO_DIR = dir;
  });
  afterEach(async () => {
    delete process.env.MAESTRO_FC_REPRO_DIR;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('names the file in the failure; the file holds seed, path, the shrunk value and the replay command', async () => {
    let message = '';
    try {
      fc.assert(belowTen, { seed: 42 });
    } catch (error) {
      message = (error as Error).message;
    }
    const file = /^repro file: (.+)$/m.exec(message)?.[1];
    expect(file).toBe(path.join(dir, 'a-failing-property-leaves-a-repro-file-jest-setup-test-helpers-fast-check-repro.42.json'));
    expect(message).toContain('Counterexample: [10]');
    // The file is what the eval gate reads back (evals/property-repros.ts) into a train's evidence.
    const [repro] = await readPropertyRepros(dir);
    expect(repro).toMatchObject({
      file: 'test/unit/helpers/fast-check-repro.test.ts',
      seed: 42,
      counterexample: '[10]',
      error: '10 is not below 10',
      replay: `MAESTRO_FC_SEED=42 npx jest test/unit/helpers/fast-check-repro.test.ts -t '${expect.getState().currentTestName}'`,
    });
    expect(message).toContain(`replay: ${repro.replay}`);
    // The path replays the failing run directly, without searching again.
    const replayed = fc.check(belowTen, { seed: repro.seed, path: repro.path!, endOnFailure: true });
    expect(replayed.counterexample).toEqual([10]);
    expect(replayed.numRuns).toBe(1);
  });

  it('a passing property writes nothing', async () => {
    fc.assert(fc.property(fc.nat({ max: 9 }), (n) => n < 10), { seed: 42 });
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
