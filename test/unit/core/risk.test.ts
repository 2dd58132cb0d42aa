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
