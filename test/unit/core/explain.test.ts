import type { TrainDossier } from '../../../core/dossier';
import { explainTrain, formatExplanation } from '../../../core/explain';

function dossier(over: Omit<Partial<TrainDossier>, 'train'> & { train?: Partial<TrainDossier['train']> } = {}): TrainDossier {
  const { train, ...rest } = over;
  return {
    train: {
      id: 'train-x',
      changeId: 'x',
      title: 'Greet politely',
      repo: '/tmp/repo',
      service: 'greeter',
      environment: 'dev',
      author: 'ada',
      state: 'closed',
      outcome: 'promoted',
      reason: 'all health gates passed',
      candidateSha: 'c'.repeat(40),
      mergeSha: 'm'.repeat(40),
      startedAt: '2026-12-01T10:00:00.000Z',
      closedAt: '2026-12-01T10:05:00.000Z',
      ...train,
    },
    stages: [{ name: 'runEvals', status: 'completed', detail: '', startedAt: '2026-12-01T10:00:01.000Z', finishedAt: '2026-12-01T10:00:04.500Z' }],
    evals: [
      {
        candidateSha: 'c'.repeat(40),
        score: 0.97,
        threshold: 0.85,
        passed: true,
        checks: [
          { check: 'tests_pass', score: 1, passed: true, explanation: '12/12 tests pass' },
          { check: 'changed_lines_covered', score: 0.9, passed: true, explanation: '9/10 changed lines covered' },
        ],
        durationMs: 3400,
        recordedAt: '2026-12-01T10:00:04.500Z',
      },
    ],
    risk: [{ candidateSha: 'c'.repeat(40), score: 0.31, factors: [{ name: 'centrality', value: 0.6, weight: 0.5, detail: 'greet() is called from 4 places' }] }],
    decisions: [{ candidateSha: 'c'.repeat(40), outcome: 'allow', denials: [], notes: [], decidedAt: '2026-12-01T10:00:05.000Z' }],
    appeals: [],
    provenance: [],
    costs: [],
    audit: [],
    ...rest,
  };
}

test('a rollback names the failed gate, its figures and the time back on stable in the headline', () => {
  const e = explainTrain(
    dossier({
      train: { outcome: 'rolled_back', reason: 'rolled back' },
      summary: {
        timeline: [
          { at: Date.parse('2026-12-01T10:01:00Z'), kind: 'weight', detail: 'canary weight 10%', source: 'rollout' },
          { at: Date.parse('2026-12-01T10:01:05Z'), kind: 'rollback', detail: 'health gate at 10% failed: error rate 31.00% > 1.00%; 100% on stable', source: 'rollout' },
        ],
        rollout: { outcome: 'rolled_back', reason: 'health gate at 10% failed: error rate 31.00% > 1.00%', finalWeight: 0, probes: 2, mttrMs: 1_840 },
      },
    }),
  );
  expect(e.headline).toBe(
    'train-x (greeter → dev, "Greet politely" by ada) was rolled back: health gate at 10% failed: error rate 31.00% > 1.00% (back on stable 1.8 s after the first red probe).',
  );
  const gates = e.sections.find((s) => s.title === 'health gates')!.lines;
  expect(gates[0]).toContain('weight: canary weight 10%');
  expect(gates.at(-1)).toContain('rollout rolled back after 2 probe(s) at 0%');
});

test('a denial gives each rule with its evidence and fix, and the appeal with who decided it', () => {
  const e = explainTrain(
    dossier({
      train: { outcome: 'denied', mergeSha: null },
      decisions: [
        {
          candidateSha: 'c'.repeat(40),
          outcome: 'deny',
          denials: [{ rule: 'tests-weakened', reason: 'the change deletes a failing test', evidence: 'test/greeting.test.ts:12 removed', fix: 'fix the code, keep the test' }],
          notes: [],
          decidedAt: '2026-12-01T10:00:05.000Z',
        },
      ],
      appeals: [{ id: 'appeal-1', rules: ['tests-weakened'], appellant: 'ada', reason: 'flaky test', status: 'rejected', decidedBy: 'grace', decisionReason: 'not flaky', openedAt: '', decidedAt: '' }],
    }),
  );
  expect(e.headline).toContain('was denied by rule tests-weakened: the change deletes a failing test.');
  const text = formatExplanation(e);
  expect(text).toContain('[tests-weakened] the change deletes a failing test. Evidence: test/greeting.test.ts:12 removed. Fix: fix the code, keep the test');
  expect(text).toContain('appeal appeal-1 by ada against tests-weakened ("flaky test"): rejected by grace ("not flaky")');
});

test('an abort says who aborted; operator actions carry their identity', () => {
  const e = explainTrain(
    dossier({
      train: { outcome: 'aborted', reason: 'aborted by grace during rollout: wrong region' },
      summary: {
        timeline: [
          { at: Date.parse('2026-12-01T10:01:00Z'), kind: 'pause', detail: 'look at the graphs', by: 'ada', source: 'train' },
          { at: Date.parse('2026-12-01T10:02:00Z'), kind: 'abort', detail: 'wrong region', by: 'grace', source: 'train' },
        ],
      },
    }),
  );
  expect(e.headline).toContain('was aborted by grace: aborted by grace during rollout: wrong region.');
  expect(e.sections.find((s) => s.title === 'operators')!.lines).toEqual(['10:01:00.000  pause by ada: look at the graphs', '10:02:00.000  abort by grace: wrong region']);
});

test('a promotion gives the Eval Score, every check and the largest risk factors', () => {
  const e = explainTrain(dossier());
  expect(e.headline).toBe('train-x (greeter → dev, "Greet politely" by ada) was promoted: all health gates passed, Eval Score 0.970.');
  const text = formatExplanation(e);
  expect(text).toContain('Eval Score 0.970 against a threshold of 0.85: passed (3.4 s)');
  expect(text).toContain('pass  changed_lines_covered 0.90: 9/10 changed lines covered');
  expect(text).toContain('risk 0.31; largest factors: centrality 0.60 (greet() is called from 4 places)');
  expect(text).toContain('runEvals         3.5 s');
});

test('a running train says its stage; a failure with no reason says so', () => {
  expect(explainTrain(dossier({ train: { state: 'running', outcome: null } })).headline).toContain('is running: stage runEvals');
  expect(explainTrain(dossier({ train: { outcome: 'failed', reason: null } })).headline).toContain('failed: no reason recorded.');
});
