import fc from 'fast-check';
import { computeRisk, type RiskInputs } from '../../../core/risk';

const fileNames = fc.uniqueArray(fc.constantFrom('src/a.ts', 'src/b.ts', 'src/hub.ts', 'lib/x.js', 'infra/k.yaml', 'README.md'), { maxLength: 6 });
const unit = fc.double({ min: 0, max: 1, noNaN: true });
const node = fc.record({ fanIn: fc.nat(500), pageRank: unit, betweenness: unit });
const perFile = <T>(files: string[], arb: fc.Arbitrary<T>) => fc.tuple(...files.map(() => arb)).map((xs) => Object.fromEntries(files.map((f, i) => [f, xs[i]!])));

const riskInputs: fc.Arbitrary<RiskInputs> = fileNames.chain((changedFiles) =>
  fc.record({
    changedFiles: fc.constant(changedFiles),
    insertions: fc.nat(100_000),
    deletions: fc.nat(100_000),
    graph: fc.record({
      source: fc.constant('memory@prop'),
      totalFiles: fc.nat(1_000),
      files: perFile(changedFiles, node),
      symbols: fc.dictionary(fc.constantFrom('src/a.ts#f', 'src/hub.ts#C.m'), node, { maxKeys: 2 }),
    }),
    protectedTouched: fc.subarray(changedFiles),
    churn: perFile(changedFiles, fc.nat(200)),
    authorCommits: perFile(changedFiles, fc.nat(50)),
    authorOwns: fc.subarray(changedFiles),
    testFiles: fc.subarray(changedFiles),
    testedFiles: fc.subarray(changedFiles),
  }),
);
const nonEmpty = riskInputs.filter((i) => i.changedFiles.length > 0);
const pickFile = (inputs: RiskInputs, pick: number) => inputs.changedFiles[pick % inputs.changedFiles.length]!;

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

  it('consults the code graph for every score (100%): it reads the graph and reports centrality first', () => {
    fc.assert(
      fc.property(riskInputs, (inputs) => {
        let reads = 0;
        const graph = new Proxy(inputs.graph, { get: (t, k, r) => (reads++, Reflect.get(t, k, r)) });
        const report = computeRisk({ ...inputs, graph });
        expect(reads).toBeGreaterThan(0);
        expect(report.factors[0]!.name).toBe('centrality');
        expect(report.factors[0]!.detail).toContain('graph memory@prop');
      }),
    );
  });

  it('is monotone in centrality: more fan-in, PageRank or betweenness of a changed file never lowers it', () => {
    fc.assert(
      fc.property(nonEmpty, fc.nat(), fc.nat(500), unit, unit, (inputs, pick, extra, pr, bc) => {
        const file = pickFile(inputs, pick);
        const c = inputs.graph.files[file]!;
        const more = { ...inputs, graph: { ...inputs.graph, files: { ...inputs.graph.files, [file]: { fanIn: c.fanIn + extra, pageRank: Math.max(c.pageRank, pr), betweenness: Math.max(c.betweenness, bc) } } } };
        expect(computeRisk(more).score).toBeGreaterThanOrEqual(computeRisk(inputs).score);
      }),
    );
  });

  it('a deleted file found in the base graph never lowers it', () => {
    fc.assert(
      fc.property(nonEmpty, fc.nat(), node, fc.nat(1_000), (inputs, pick, c, totalFiles) => {
        const file = pickFile(inputs, pick);
        const files = { ...inputs.graph.files };
        delete files[file];
        const deleted = { ...inputs, graph: { ...inputs.graph, files } };
        const withBase = { ...deleted, graph: { ...deleted.graph, base: { source: 'memory@base', totalFiles, files: { [file]: c } } } };
        expect(computeRisk(withBase).score).toBeGreaterThanOrEqual(computeRisk(deleted).score);
      }),
    );
  });

  it('is monotone in size and churn: more lines or more commits never lower it', () => {
    fc.assert(
      fc.property(nonEmpty, fc.nat(10_000), fc.nat(10_000), fc.nat(), fc.nat(100), (inputs, moreIns, moreDel, pick, moreChurn) => {
        const file = pickFile(inputs, pick);
        const bigger = { ...inputs, insertions: inputs.insertions + moreIns, deletions: inputs.deletions + moreDel, churn: { ...inputs.churn, [file]: (inputs.churn?.[file] ?? 0) + moreChurn } };
        expect(computeRisk(bigger).score).toBeGreaterThanOrEqual(computeRisk(inputs).score);
      }),
    );
  });

  it('an author more familiar with a file, or a test reaching it, never raises it', () => {
    fc.assert(
      fc.property(nonEmpty, fc.nat(), fc.nat(50), (inputs, pick, more) => {
        const file = pickFile(inputs, pick);
        const familiar = { ...inputs, authorCommits: { ...inputs.authorCommits, [file]: (inputs.authorCommits?.[file] ?? 0) + more } };
        const tested = { ...inputs, testedFiles: [...new Set([...(inputs.testedFiles ?? []), file])] };
        expect(computeRisk(familiar).score).toBeLessThanOrEqual(computeRisk(inputs).score);
        expect(computeRisk(tested).score).toBeLessThanOrEqual(computeRisk(inputs).score);
      }),
    );
  });

  it('touching a protected path never lowers it, and touching the first one raises it', () => {
    fc.assert(
      fc.property(nonEmpty, fc.nat(), (inputs, pick) => {
        const file = pickFile(inputs, pick);
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
