import { validationIssues } from '../../helpers/validation';
import { computeRisk, LINES_PER_FILE, nodeCentrality, RISK_WEIGHTS, SIZE_HALF_POINT, type RiskInputs } from '../../../core/risk';
import { ValidationError } from '../../../core/validation';

const graph = (files: RiskInputs['graph']['files'] = {}, totalFiles = 11, symbols: RiskInputs['graph']['symbols'] = {}) => ({ source: 'memory@test', totalFiles, files, symbols });
const base: RiskInputs = { changedFiles: ['src/a.ts'], insertions: 0, deletions: 0, graph: graph(), protectedTouched: [], testedFiles: ['src/a.ts'], authorOwns: ['src/a.ts'] };
const factor = (inputs: RiskInputs, name: string) => computeRisk(inputs).factors.find((f) => f.name === name)!;
const node = (fanIn: number, pageRank = 0, betweenness = 0) => ({ fanIn, pageRank, betweenness });

describe('computeRisk', () => {
  it('reports the six documented factors with weights summing to 1', () => {
    const report = computeRisk(base);
    expect(report.factors.map((f) => f.name)).toEqual(['centrality', 'change size', 'protected paths', 'owner familiarity', 'churn', 'test coverage']);
    expect(report.factors.reduce((sum, f) => sum + f.weight, 0)).toBeCloseTo(1, 10);
    for (const f of report.factors) expect(f.detail.length).toBeGreaterThan(0);
  });

  it('refuses to score without the code graph', () => {
    expect(() => computeRisk({ ...base, graph: undefined as unknown as RiskInputs['graph'] })).toThrow(/every risk score consults the code graph/);
  });

  it('scores centrality as the most central touched file or symbol', () => {
    const inputs = { ...base, changedFiles: ['src/a.ts', 'src/hub.ts'], graph: graph({ 'src/a.ts': node(1), 'src/hub.ts': node(5, 0.4, 0.2) }, 11, { 'src/a.ts#f': node(2, 1, 1) }) };
    const centrality = factor(inputs, 'centrality');
    expect(centrality.value).toBeCloseTo(Math.max(0.5 * 0.5 + 0.25 * 0.4 + 0.25 * 0.2, 0.5 * 0.2 + 0.25 + 0.25), 6);
    expect(centrality.detail).toContain('most central touched node: src/a.ts#f');
    expect(nodeCentrality(node(50), 3)).toBe(0.5);
  });

  it('saturates size at 0.5 for the half point, counting each changed file as LINES_PER_FILE lines', () => {
    const inputs = { ...base, insertions: SIZE_HALF_POINT - LINES_PER_FILE, deletions: 0 };
    expect(factor(inputs, 'change size').value).toBeCloseTo(0.5, 6);
    expect(factor({ ...base, insertions: 1e9 }, 'change size').value).toBeLessThanOrEqual(1);
  });

  it('computes the weighted sum exactly as documented', () => {
    const inputs: RiskInputs = {
      changedFiles: ['src/db.ts', 'infra/deploy.yaml'],
      insertions: 120,
      deletions: 60,
      graph: graph({ 'src/db.ts': node(3, 0.5, 0.1) }, 7),
      protectedTouched: ['infra/deploy.yaml'],
      churn: { 'src/db.ts': 10, 'infra/deploy.yaml': 2 },
      authorCommits: { 'src/db.ts': 3 },
      testedFiles: ['src/db.ts'],
    };
    const s = 180 + LINES_PER_FILE * 2;
    const centrality = 0.5 * (3 / 6) + 0.25 * 0.5 + 0.25 * 0.1;
    const unfamiliar = ((1 - 0.5) + 1) / 2;
    const expected =
      RISK_WEIGHTS.centrality * centrality + RISK_WEIGHTS.size * (s / (s + SIZE_HALF_POINT)) + RISK_WEIGHTS.protected + RISK_WEIGHTS.unfamiliar * unfamiliar + RISK_WEIGHTS.churn * 0.5 + RISK_WEIGHTS.untested * 0.5;
    const report = computeRisk(inputs);
    expect(report.score).toBeCloseTo(expected, 5);
    expect(factor(inputs, 'protected paths').detail).toContain('infra/deploy.yaml');
    expect(factor(inputs, 'test coverage').detail).toContain('infra/deploy.yaml');
    expect(factor(inputs, 'churn').detail).toContain('src/db.ts, 10 commit(s)');
  });

  it('scores an empty change at 0 and a central, protected, unfamiliar, untested rewrite above 0.8', () => {
    expect(computeRisk({ ...base, changedFiles: [] }).score).toBe(0);
    const central = computeRisk({ changedFiles: ['src/a.ts'], insertions: 2000, deletions: 900, graph: graph({ 'src/a.ts': node(10, 1, 1) }), protectedTouched: ['src/a.ts'], churn: { 'src/a.ts': 90 } });
    expect(central.score).toBeGreaterThan(0.8);
  });

  it('reads the centrality of a deleted file from the base graph: deleting a hub is risky', () => {
    const deleting = { ...base, changedFiles: ['src/a.ts', 'src/hub.ts'], graph: graph({ 'src/a.ts': node(0) }) };
    const withBase = { ...deleting, graph: { ...deleting.graph, base: { source: 'memory@base', totalFiles: 11, files: { 'src/hub.ts': node(10, 1, 0.5) } } } };
    expect(factor(deleting, 'centrality').value).toBe(0); // without the base graph a deleted file is isolated
    const centrality = factor(withBase, 'centrality');
    expect(centrality.value).toBeCloseTo(nodeCentrality(node(10, 1, 0.5), 11), 6);
    expect(centrality.detail).toContain('most central touched node: src/hub.ts, deleted (centrality in the base graph memory@base)');
    expect(computeRisk(withBase).score).toBeGreaterThan(computeRisk(deleting).score);
    // A file still in the candidate's graph is scored there, never from the base.
    const kept = { ...withBase, graph: { ...withBase.graph, files: { 'src/a.ts': node(0), 'src/hub.ts': node(1) } } };
    expect(factor(kept, 'centrality').value).toBeCloseTo(nodeCentrality(node(1), 11), 6);
    expect(() => computeRisk({ ...withBase, graph: { ...withBase.graph, base: { source: 'b', totalFiles: -1, files: { 'src/hub.ts': node(-2) } } } })).toThrow(ValidationError);
  });

  it('names unparsed files in the centrality detail', () => {
    expect(factor({ ...base, unparsedFiles: ['src/broken.ts'] }, 'centrality').detail).toContain('skipped 1 unparseable file(s): src/broken.ts');
  });

  it('rejects negative and non-finite figures with field paths', () => {
    try {
      computeRisk({ ...base, insertions: -1, graph: graph({ 'src/a.ts': node(Number.NaN) }) });
      throw new Error('no error');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['insertions', 'graph.files.src/a.ts.fanIn']);
    }
  });
});

describe('computeRisk: every factor says what it saw', () => {
  it('values, weights and details of a change with every kind of input (checked by hand against the formula)', () => {
    const report = computeRisk({
      changedFiles: ['src/b.ts', 'src/a.ts', 'src/a.ts', 'test/a.test.ts', 'src/gone.ts'],
      insertions: 30,
      deletions: 10,
      graph: { ...graph({ 'src/a.ts': node(2, 0.5, 0.25), 'src/b.ts': node(0) }, 5), source: 'memory@abc', base: { source: 'memory@base', totalFiles: 5, files: { 'src/gone.ts': node(1) } } },
      protectedTouched: ['src/b.ts', 'src/a.ts', 'src/b.ts'],
      churn: { 'src/a.ts': 5, 'src/b.ts': 7 },
      authorCommits: { 'src/b.ts': 3 },
      authorOwns: ['test/a.test.ts'],
      testFiles: ['test/a.test.ts'],
      testedFiles: ['src/a.ts'],
      unparsedFiles: ['src/x.ts'],
      testWeakening: ['test/a.test.ts:3 assertion-removed'],
    });
    // centrality 0.5·(2/4) + 0.25·0.5 + 0.25·0.25; s = 40 lines + 10·4 files; familiarity a 0, b 3/6, gone 0, the owned test 1;
    // churn 7/17; untested b and gone of a, b, gone; weakened 1/2.
    expect(report).toEqual({
      score: 0.591325,
      factors: [
        {
          name: 'centrality',
          value: 0.4375,
          weight: 0.35,
          detail: 'graph memory@abc (5 files); most central touched node: src/a.ts (fan-in 2, PageRank 0.5, betweenness 0.25); deleted file(s) read from the base graph memory@base: src/gone.ts; skipped 1 unparseable file(s): src/x.ts',
        },
        { name: 'change size', value: 0.285714, weight: 0.15, detail: '+30 −10 lines in 4 file(s); saturates as s/(s+200)' },
        { name: 'protected paths', value: 1, weight: 0.2, detail: 'touches protected path(s): src/a.ts, src/b.ts' },
        { name: 'owner familiarity', value: 0.625, weight: 0.1, detail: '1 − mean familiarity of the author with the changed files; least familiar: src/a.ts (0 commit(s))' },
        { name: 'churn', value: 0.411765, weight: 0.1, detail: 'most churned changed file: src/b.ts, 7 commit(s); c/(c+10)' },
        { name: 'test coverage', value: 0.666667, weight: 0.1, detail: 'no test reaches 2 of 3 changed source file(s): src/b.ts, src/gone.ts' },
        { name: 'test weakening', value: 0.5, weight: 0.05, detail: '1 test-weakening finding(s): test/a.test.ts:3 assertion-removed' },
      ],
    });
  });

  it('says so when nothing is central, protected, churned or untested, and when only tests changed', () => {
    const files = Array.from({ length: 7 }, (_, i) => `src/f${i}.ts`);
    const quiet = computeRisk({ ...base, changedFiles: files, graph: graph(Object.fromEntries(files.map((f) => [f, node(0)]))), testedFiles: files, authorOwns: ['src/f0.ts'] });
    const detail = (name: string) => quiet.factors.find((f) => f.name === name)!.detail;
    expect(detail('centrality')).toBe('graph memory@test (11 files); no touched node is depended upon (7 file(s), 0 symbol(s) checked)');
    expect(detail('protected paths')).toBe('no protected path touched');
    expect(detail('churn')).toBe('no changed file has history');
    expect(detail('test coverage')).toBe('every changed source file is reached by a test (7)');
    expect(detail('owner familiarity')).toContain('least familiar: src/f1.ts (0 commit(s))');
    const owned = computeRisk(base).factors.find((f) => f.name === 'owner familiarity')!.detail;
    expect(owned).toBe('1 − mean familiarity of the author with the changed files; least familiar: src/a.ts (CODEOWNER)');
    const protectedMany = computeRisk({ ...base, changedFiles: files, protectedTouched: files }).factors.find((f) => f.name === 'protected paths')!.detail;
    expect(protectedMany).toBe('touches protected path(s): src/f0.ts, src/f1.ts, src/f2.ts, src/f3.ts, src/f4.ts and 2 more');
    const testsOnly = computeRisk({ ...base, changedFiles: ['test/a.test.ts'], testFiles: ['test/a.test.ts'] });
    expect(testsOnly.factors.find((f) => f.name === 'test coverage')).toMatchObject({ value: 0, detail: 'only tests changed' });
    expect(computeRisk({ ...base, changedFiles: [] }).factors.find((f) => f.name === 'owner familiarity')).toMatchObject({ value: 0, detail: 'no file changed' });
  });

  it('names every bad figure by its path', () => {
    const issues = (inputs: unknown) => validationIssues(() => computeRisk(inputs as RiskInputs));
    expect(
      issues({
        changedFiles: 'src/a.ts',
        protectedTouched: null,
        insertions: Infinity,
        deletions: '3',
        graph: { source: 's', totalFiles: -1, files: { 'a.ts': { fanIn: 1, pageRank: 1.5, betweenness: -0.1 } }, symbols: null, base: 'x' },
        churn: { 'a.ts': -1 },
        authorCommits: { 'a.ts': Number.NaN },
      }),
    ).toEqual([
      { path: 'insertions', message: 'must be a non-negative finite number, got Infinity' },
      { path: 'deletions', message: 'must be a non-negative finite number, got 3' },
      { path: 'changedFiles', message: 'must be an array of paths' },
      { path: 'protectedTouched', message: 'must be an array of paths' },
      { path: 'graph.totalFiles', message: 'must be a non-negative finite number, got -1' },
      { path: 'graph.base', message: 'must be an object' },
      { path: 'graph.files.a.ts.pageRank', message: 'must be a number in [0, 1], got 1.5' },
      { path: 'graph.files.a.ts.betweenness', message: 'must be a number in [0, 1], got -0.1' },
      { path: 'graph.symbols', message: 'must be an object' },
      { path: 'churn.a.ts', message: 'must be a non-negative finite number, got -1' },
      { path: 'authorCommits.a.ts', message: 'must be a non-negative finite number, got NaN' },
    ]);
    expect(issues({ ...base, graph: { ...graph(), base: { source: 'b', totalFiles: 1, files: null } } })).toEqual([{ path: 'graph.base.files', message: 'must be an object' }]);
    expect(issues({ ...base, graph: graph({ 'a.ts': node(0, 1, 1) }, 0) })).toEqual([]);
  });
});

describe('computeRisk: ties, boundaries and the clamp', () => {
  it('a tie for the most central node goes to the first in path order, files before symbols; an absent node is never the hub', () => {
    const tied = computeRisk({ ...base, changedFiles: ['src/b.ts', 'src/a.ts', 'src/none.ts'], graph: graph({ 'src/a.ts': node(2), 'src/b.ts': node(2) }, 11, { 'src/a.ts#f': node(2) }) });
    expect(tied.factors[0]!.detail).toBe('graph memory@test (11 files); most central touched node: src/a.ts (fan-in 2, PageRank 0, betweenness 0)');
    const absent = computeRisk({ ...base, changedFiles: ['src/none.ts'], graph: graph({}, 3) });
    expect(absent.factors[0]).toMatchObject({ value: 0, detail: 'graph memory@test (3 files); no touched node is depended upon (1 file(s), 0 symbol(s) checked)' });
  });

  it('fan-in is relative to the other files of the graph (F − 1), never divided by less than 1', () => {
    expect(nodeCentrality(node(1), 5)).toBe(0.5 * (1 / 4));
    expect(nodeCentrality(node(1), 1)).toBe(0.5);
    expect(nodeCentrality(node(1), 0)).toBe(0.5);
    expect(nodeCentrality(node(0, 0.4, 0.8), 10)).toBeCloseTo(0.25 * 0.4 + 0.25 * 0.8, 12);
    expect(nodeCentrality(undefined, 10)).toBe(0);
    expect(nodeCentrality(node(1e6, 1, 1), 2)).toBe(1);
  });

  it('the most churned file: the first in path order on a tie, and the least familiar likewise', () => {
    const report = computeRisk({ ...base, changedFiles: ['src/b.ts', 'src/a.ts'], churn: { 'src/a.ts': 4, 'src/b.ts': 4 }, authorOwns: [] });
    expect(report.factors.find((f) => f.name === 'churn')).toEqual({ name: 'churn', value: 0.285714, weight: 0.1, detail: 'most churned changed file: src/a.ts, 4 commit(s); c/(c+10)' });
    expect(report.factors.find((f) => f.name === 'owner familiarity')!.detail).toBe('1 − mean familiarity of the author with the changed files; least familiar: src/a.ts (0 commit(s))');
  });

  it('lists up to five names whole and says how many more beyond', () => {
    const five = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5'];
    const detail = (files: string[]) => computeRisk({ ...base, changedFiles: files, protectedTouched: files }).factors.find((f) => f.name === 'protected paths')!.detail;
    expect(detail(five)).toBe('touches protected path(s): p/1, p/2, p/3, p/4, p/5');
    expect(detail([...five, 'p/6'])).toBe('touches protected path(s): p/1, p/2, p/3, p/4, p/5 and 1 more');
  });

  it('the test-weakening factor can push the sum past 1: the score is clamped to 1', () => {
    const everything: RiskInputs = {
      changedFiles: ['src/a.ts'],
      insertions: 1800,
      deletions: 0,
      graph: graph({ 'src/a.ts': node(1e6, 1, 1) }),
      protectedTouched: ['src/a.ts'],
      churn: { 'src/a.ts': 90 },
      testWeakening: Array.from({ length: 1000 }, (_, i) => `test/a.test.ts:${i} assertion-removed`),
    };
    // 0.35·1 + 0.15·1810/2010 + 0.2 + 0.1·1 + 0.1·90/100 + 0.1·1 = 0.975075; the 1000 findings add 0.05·1000/1001.
    expect(computeRisk({ ...everything, testWeakening: [] }).score).toBe(0.975075);
    expect(computeRisk(everything).score).toBe(1);
  });

  it('reports each bad table entry and each bad base by its path', () => {
    const issues = (inputs: unknown) => validationIssues(() => computeRisk(inputs as RiskInputs));
    expect(issues({ ...base, graph: { ...graph(), base: null } })).toEqual([{ path: 'graph.base', message: 'must be an object' }]);
    expect(issues({ ...base, graph: { ...graph(), files: { 'a.ts': null }, symbols: { 'a.ts#f': { fanIn: 1, pageRank: 0, betweenness: 2 } } } })).toEqual([
      { path: 'graph.files.a.ts.fanIn', message: 'must be a non-negative finite number, got undefined' },
      { path: 'graph.files.a.ts.pageRank', message: 'must be a number in [0, 1], got undefined' },
      { path: 'graph.files.a.ts.betweenness', message: 'must be a number in [0, 1], got undefined' },
      { path: 'graph.symbols.a.ts#f.betweenness', message: 'must be a number in [0, 1], got 2' },
    ]);
    expect(issues({ ...base, graph: { ...graph(), base: { source: 'b', totalFiles: Number.NaN, files: { 'x.ts': { fanIn: 0, pageRank: Number.POSITIVE_INFINITY, betweenness: 0 } } } } })).toEqual([
      { path: 'graph.base.totalFiles', message: 'must be a non-negative finite number, got NaN' },
      { path: 'graph.base.files.x.ts.pageRank', message: 'must be a number in [0, 1], got Infinity' },
    ]);
    expect(issues({ ...base, graph: 'memory' })).toEqual([{ path: 'graph', message: 'is required: every risk score consults the code graph' }]);
    expect(issues({ ...base, graph: { ...graph(), files: 'ab', symbols: 7 } })).toEqual([
      { path: 'graph.files', message: 'must be an object' },
      { path: 'graph.symbols', message: 'must be an object' },
    ]);
    expect(issues({ ...base, insertions: 0, deletions: 0, churn: { 'a.ts': 0 }, authorCommits: { 'a.ts': 0 }, graph: graph({ 'a.ts': node(0, 0, 0) }, 0) })).toEqual([]);
  });
});

describe('computeRisk: what its errors and ties read like', () => {
  it('throws one ValidationError naming the risk inputs and each bad path', () => {
    expect(() => computeRisk({ ...base, insertions: -1, deletions: Number.NaN })).toThrow(
      new ValidationError('risk inputs', [
        { path: 'insertions', message: 'must be a non-negative finite number, got -1' },
        { path: 'deletions', message: 'must be a non-negative finite number, got NaN' },
      ]),
    );
    expect(() => computeRisk({ ...base, insertions: -1 })).toThrow('invalid risk inputs:\n  - insertions: must be a non-negative finite number, got -1');
  });

  it('equally central symbols: the first in path order is the hub, whatever order the graph lists them in', () => {
    const report = computeRisk({ ...base, graph: graph({ 'src/a.ts': node(0) }, 11, { 'src/z.ts#g': node(4), 'src/b.ts#f': node(4) }) });
    expect(report.factors[0]!.detail).toBe('graph memory@test (11 files); most central touched node: src/b.ts#f (fan-in 4, PageRank 0, betweenness 0)');
  });
});
