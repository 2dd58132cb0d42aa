import { computeRisk, LINES_PER_FILE, RISK_WEIGHTS, SIZE_HALF_POINT, type RiskInputs } from '../../core/risk';
import { ValidationError } from '../../core/validation';

const base: RiskInputs = { changedFiles: ['src/a.ts'], insertions: 0, deletions: 0, fanIn: {}, totalFiles: 11, protectedTouched: [] };
const factor = (inputs: RiskInputs, name: string) => computeRisk(inputs).factors.find((f) => f.name === name)!;

describe('computeRisk', () => {
  it('reports the three documented factors with weights summing to 1', () => {
    const report = computeRisk(base);
    expect(report.factors.map((f) => f.name)).toEqual(['centrality', 'change size', 'protected paths']);
    expect(report.factors.reduce((sum, f) => sum + f.weight, 0)).toBeCloseTo(1, 10);
    for (const f of report.factors) expect(f.detail.length).toBeGreaterThan(0);
  });

  it('scores centrality as the fan-in share of the most imported changed file', () => {
    const inputs = { ...base, changedFiles: ['src/a.ts', 'src/hub.ts'], fanIn: { 'src/a.ts': 1, 'src/hub.ts': 5 } };
    const centrality = factor(inputs, 'centrality');
    expect(centrality.value).toBeCloseTo(5 / 10, 6);
    expect(centrality.detail).toContain('src/hub.ts, imported by 5 of 11 files');
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
      fanIn: { 'src/db.ts': 3 },
      totalFiles: 7,
      protectedTouched: ['infra/deploy.yaml'],
    };
    const s = 180 + LINES_PER_FILE * 2;
    const expected = RISK_WEIGHTS.centrality * (3 / 6) + RISK_WEIGHTS.size * (s / (s + SIZE_HALF_POINT)) + RISK_WEIGHTS.protected;
    const report = computeRisk(inputs);
    expect(report.score).toBeCloseTo(expected, 5);
    expect(factor(inputs, 'protected paths').detail).toContain('infra/deploy.yaml');
  });

  it('scores a one-file isolated empty change near zero and a central protected rewrite above 0.8', () => {
    expect(computeRisk({ ...base, changedFiles: [] }).score).toBe(0);
    const central = computeRisk({ ...base, insertions: 2000, deletions: 900, fanIn: { 'src/a.ts': 10 }, protectedTouched: ['src/a.ts'] });
    expect(central.score).toBeGreaterThan(0.8);
  });

  it('caps centrality at 1 even when fan-in exceeds the other files', () => {
    expect(factor({ ...base, fanIn: { 'src/a.ts': 50 }, totalFiles: 3 }, 'centrality').value).toBe(1);
  });

  it('names unparsed files in the centrality detail', () => {
    expect(factor({ ...base, unparsedFiles: ['src/broken.ts'] }, 'centrality').detail).toContain('skipped 1 unparseable file(s): src/broken.ts');
  });

  it('rejects negative and non-finite figures with field paths', () => {
    expect(() => computeRisk({ ...base, insertions: -1, fanIn: { 'src/a.ts': Number.NaN } })).toThrow(ValidationError);
    try {
      computeRisk({ ...base, insertions: -1, fanIn: { 'src/a.ts': Number.NaN } });
    } catch (err) {
      expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['insertions', 'fanIn.src/a.ts']);
    }
  });
});
