/**
 * The short subset of `maestro drill` that runs in npm test: the worker killed with -9 mid-rollout, on a
 * stack of the drill's own. The full table (canary, proxy, stable, PostgreSQL, Temporal, aborts,
 * concurrent trains): `npm run drill`.
 */
import { runDrill, SCENARIOS } from '../../../cli/drill';

test('kill -9 of the worker mid-rollout: the same train carries on, the invariant holds, nothing runs twice', async () => {
  const [row] = await runDrill({ scenarios: SCENARIOS.filter((s) => s.name === 'kill-worker@rollout'), runs: 1, port: 7480 });
  expect(row!.errors).toEqual([]);
  expect(row!.invariantHeld).toBe(1);
  expect(row!.duplicates).toBe(0);
  // The restarted worker picks the same train up within seconds; its gates then judge the canary as usual
  // (on a loaded machine a gate may time out, which rolls back: the invariant holds either way).
  expect(row!.recoveryMaxMs).toBeLessThan(30_000);
  expect(Object.keys(row!.outcomes)).toEqual([expect.stringMatching(/^(promoted|rolled_back)$/)]);
}, 600_000);
