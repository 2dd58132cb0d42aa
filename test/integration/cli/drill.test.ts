/**
 * The short subset of `maestro drill` that runs in npm test: a worker killed with -9 mid-rollout, and a
 * canary killed with -9 mid-rollout, on a stack of the drill's own. The full table: `npm run drill`.
 */
import { runDrill, SCENARIOS } from '../../../cli/drill';

test('kill -9 of the worker or of the canary mid-rollout: the train recovers or rolls back, the invariant holds, nothing runs twice', async () => {
  const scenarios = SCENARIOS.filter((s) => ['kill-worker@rollout', 'kill-canary@rollout'].includes(s.name));
  const rows = await runDrill({ scenarios, runs: 1, port: 7480 });
  const byName = Object.fromEntries(rows.map((r) => [r.scenario, r]));
  for (const row of rows) {
    expect(row.errors).toEqual([]);
    expect(row.invariantHeld).toBe(1);
    expect(row.duplicates).toBe(0);
  }
  // The worker comes back and the same train carries on (its gates then judge the canary as usual:
  // on a loaded machine a gate may time out, which rolls back — the invariant holds either way).
  expect(byName['kill-worker@rollout']!.recoveryMaxMs).toBeLessThan(30_000);
  expect(Object.keys(byName['kill-worker@rollout']!.outcomes)).toEqual([expect.stringMatching(/^(promoted|rolled_back)$/)]);
  expect(byName['kill-canary@rollout']!.outcomes).toEqual({ rolled_back: 1 });
}, 600_000);
