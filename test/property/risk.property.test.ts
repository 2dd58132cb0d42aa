import fc from 'fast-check';
import { computeRisk, type RiskInputs } from '../../core/risk';

const fileNames = fc.uniqueArray(fc.constantFrom('src/a.ts', 'src/b.ts', 'src/hub.ts', 'lib/x.js', 'infra/k.yaml', 'README.md'), { maxLength: 6 });

const riskInputs: fc.Arbitrary<RiskInputs> = fileNames.chain((changedFiles) =>
  fc.record({
    changedFiles: fc.constant(changedFiles),
    insertions: fc.nat(100_000),
    deletions: fc.nat(100_000),
    fanIn: fc.tuple(...changedFiles.map(() => fc.nat(500))).map((counts) => Object.fromEntries(changedFiles.map((f, i) => [f, counts[i]!]))),
    totalFiles: fc.nat(1_000),
    protectedTouched: fc.subarray(changedFiles),
  }),
);

describe('risk score properties', () => {
  it('is always in [0, 1], and so is every factor value', () => {
    fc.assert(
      fc.property(riskInputs, (inputs) => {
        const report = computeRisk(inputs);
        expect(report.score).toBeGreaterThanOrEqual(0);
        expect(report.score).toBeLessThanOrEqual(1);
        for (const f of report.factors) {
          expect(f.value).toBeGreaterThanOrEqual(0);
          expect(f.value).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('is monotone in fan-in: more importers of any changed file never lower it', () => {
    fc.assert(
      fc.property(riskInputs.filter((i) => i.changedFiles.length > 0), fc.nat(), fc.nat(500), (inputs, pick, extra) => {
        const file = inputs.changedFiles[pick % inputs.changedFiles.length]!;
        const more = { ...inputs, fanIn: { ...inputs.fanIn, [file]: (inputs.fanIn[file] ?? 0) + extra } };
        expect(computeRisk(more).score).toBeGreaterThanOrEqual(computeRisk(inputs).score);
      }),
    );
  });

  it('is monotone in size: more inserted or deleted lines never lower it', () => {
    fc.assert(
      fc.property(riskInputs, fc.nat(10_000), fc.nat(10_000), (inputs, moreIns, moreDel) => {
        const bigger = { ...inputs, insertions: inputs.insertions + moreIns, deletions: inputs.deletions + moreDel };
        expect(computeRisk(bigger).score).toBeGreaterThanOrEqual(computeRisk(inputs).score);
      }),
    );
  });

  it('touching a protected path never lowers it, and touching the first one raises it', () => {
    fc.assert(
      fc.property(riskInputs.filter((i) => i.changedFiles.length > 0), fc.nat(), (inputs, pick) => {
        const file = inputs.changedFiles[pick % inputs.changedFiles.length]!;
        const withProtected = { ...inputs, protectedTouched: [...new Set([...inputs.protectedTouched, file])] };
        const before = computeRisk(inputs).score;
        const after = computeRisk(withProtected).score;
        expect(after).toBeGreaterThanOrEqual(before);
        if (inputs.protectedTouched.length === 0) expect(after).toBeGreaterThan(before);
      }),
    );
  });

  it('does not depend on the order of changed files', () => {
    fc.assert(
      fc.property(riskInputs, (inputs) => {
        const reversed = { ...inputs, changedFiles: [...inputs.changedFiles].reverse(), protectedTouched: [...inputs.protectedTouched].reverse() };
        expect(computeRisk(reversed).score).toBe(computeRisk(inputs).score);
      }),
    );
  });
});
