/** LLM cost per train and per PR from ledger rows, by stage, model and cache outcome. */
import { costReport, formatCostReport, type CostedCall } from '../../../core/llm-cost';

const row = (over: Partial<CostedCall>): CostedCall => ({ trainId: 't1', stage: 'synthesizeSpec', model: 'large', cache: 'miss', callType: 'spec', costUsd: 0, tokensIn: 0, tokensOut: 0, ...over });

test('$/train over every train, $/PR over the merged ones, breakdowns sorted by spend, hit rate over answered calls', () => {
  const rows = [
    row({ costUsd: 0.3, tokensIn: 100, tokensOut: 20 }),
    row({ cache: 'exact' }),
    row({ trainId: 't2', stage: 'runEvals', callType: 'judge', model: 'small', costUsd: 0.1 }),
    row({ trainId: 't2', stage: 'runEvals', callType: 'judge', model: 'small', cache: 'semantic' }),
    row({ trainId: 't2', stage: 'runEvals', callType: 'judge.cache-key', model: 'embed', costUsd: 0.01 }),
    row({ trainId: 't3', cache: 'blocked' }),
    row({ trainId: null, callType: 'bench', costUsd: 1 }),
  ];
  const r = costReport(rows, new Set(['t1']));
  expect(r).toMatchObject({ calls: 7, trains: 3, prs: 1 });
  expect(r.totalUsd).toBeCloseTo(1.41, 9);
  expect(r.perTrainUsd).toBeCloseTo(0.41 / 3, 9);
  expect(r.perPrUsd).toBeCloseTo(0.3, 9);
  expect(r.byStage.map((l) => l.key)).toEqual(['synthesizeSpec', 'runEvals']);
  expect(r.byCache.find((l) => l.key === 'miss')).toMatchObject({ calls: 4 });
  // answered: spec miss, spec exact, judge miss, judge semantic, bench miss → 2 of 5 from the cache.
  expect(r.cacheHitRate).toBeCloseTo(2 / 5, 9);
  expect(formatCostReport(r)).toMatch(/LLM spend \$1\.410000 over 7 calls; 3 trains \(\$0\.136667\/train\), 1 PRs \(\$0\.300000\/PR\); cache hit rate 40\.0%/);
});

test('no calls: no per-train or per-PR figure rather than a division by zero', () => {
  expect(costReport([], new Set())).toMatchObject({ totalUsd: 0, perTrainUsd: null, perPrUsd: null, cacheHitRate: null });
});
