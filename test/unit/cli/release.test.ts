import { formatStatus } from '../../../cli/release';
import { judgeWindow, statisticalJudgeSchema } from '../../../core/judge';
import type { JudgedProbe } from '../../../core/health';
import type { TrainStatus } from '../../../workflows/messages';

const figures = { requests: 400, errors: 40, p50Ms: 10, p95Ms: 20 };

function statusWith(probe: JudgedProbe): TrainStatus {
  return {
    changeId: 'c-1',
    stage: 'rollout',
    weight: 10,
    history: [],
    rollout: { weight: 10, stepIndex: 0, paused: false, lastProbes: [probe], history: [] },
  };
}

describe('formatStatus', () => {
  it("prints a statistical verdict's evidence in words, one line per metric", () => {
    const window = {
      canary: { requests: 400, errors: 40, latenciesMs: Array.from({ length: 100 }, (_, i) => 10 + i / 10) },
      stable: { requests: 3_600, errors: 4, latenciesMs: Array.from({ length: 100 }, (_, i) => 10 + i / 10) },
    };
    const verdict = judgeWindow(window, statisticalJudgeSchema.parse({}), 120);
    const probe: JudgedProbe = { at: 1, weight: 10, canary: figures, stable: figures, verdict: 'red', reasons: [verdict.words], evidence: verdict.evidence };
    const lines = formatStatus(statusWith(probe)).split('\n');
    const at = lines.findIndex((l) => l.startsWith('  last probe: red at 10%'));
    expect(lines[at]).not.toContain('(');
    expect(lines[at + 1]).toMatch(/^ {4}error rate: canary 10\.00% \(40\/400\) vs stable 0\.11% \(4\/3600\): more than 0\.10 points worse .*→ fail$/);
    expect(lines[at + 2]).toMatch(/^ {4}latency: canary median .* → inconclusive$/);
  });

  it('keeps the thresholds’ reasons on the probe line', () => {
    const probe: JudgedProbe = { at: 1, weight: 10, canary: figures, stable: figures, verdict: 'red', reasons: ['error rate 10.00% > 1.00%'] };
    expect(formatStatus(statusWith(probe))).toContain('stable p95 20.0 ms (error rate 10.00% > 1.00%)');
  });
});
