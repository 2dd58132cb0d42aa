import fc from 'fast-check';
import { compareTruths, type ServiceTruths } from '../../../core/invariant';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** A service at rest after train-1 promoted A: every truth says A. */
function agreeing(): ServiceTruths {
  return {
    service: 'greeter',
    environment: 'dev',
    runs: { stable: { sha: A, alive: true, routed: true }, canary: null, proxyAlive: true, weight: 0, lease: null },
    base: { repo: '/r', branch: 'main', tipSha: A, matchesStable: true, matchesCanary: null, carriesUnpromotedMerge: null },
    gitops: { environment: 'dev', commit: A, trainId: 'train-1' },
    record: { lastPromoted: { trainId: 'train-1', outcome: 'promoted', mergeSha: A, closedAt: '2026-12-01T00:00:00Z' }, lastMerged: { trainId: 'train-1', outcome: 'promoted', mergeSha: A, closedAt: '2026-12-01T00:00:00Z' }, open: [] },
  };
}

test('four agreeing truths hold', () => {
  const report = compareTruths(agreeing());
  expect(report).toMatchObject({ held: true, state: 'at-rest', disagreements: [] });
});

test('production running a merge the record rolled back is named, with both truths', () => {
  const t = agreeing();
  t.runs!.stable!.sha = B;
  t.record.lastMerged = { trainId: 'train-2', outcome: 'rolled_back', mergeSha: B, closedAt: null };
  const report = compareTruths(t);
  expect(report.held).toBe(false);
  expect(report.disagreements.map((d) => d.what)).toEqual(
    expect.arrayContaining([expect.stringContaining('GitOps says aaaaaaaaaaaa'), expect.stringContaining('train train-2 ended rolled_back, but its merge bbbbbbbbbbbb runs')]),
  );
});

test('a base branch that does not describe what runs, and one still carrying a rolled-back merge, disagree', () => {
  const t = agreeing();
  t.base = { ...t.base!, tipSha: B, matchesStable: false, carriesUnpromotedMerge: true };
  t.record.lastMerged = { trainId: 'train-2', outcome: 'rolled_back', mergeSha: B, closedAt: null };
  const report = compareTruths(t);
  expect(report.disagreements.map((d) => d.between)).toEqual([
    ['base', 'runs'],
    ['base', 'record'],
  ]);
});

test('in flight, the holder may lead with its merge and canary; a stale holder and a record row of an ended train are named', () => {
  const t = agreeing();
  t.runs = { ...t.runs!, canary: { sha: B, owner: 'train-2', alive: true }, weight: 10, lease: { owner: 'train-2', since: 0 } };
  t.base = { ...t.base!, tipSha: B, matchesStable: false, matchesCanary: true };
  expect(compareTruths(t)).toMatchObject({ held: true, state: 'in-flight', holder: 'train-2' });
  t.leaseHolderRunning = false;
  t.record.open = [{ trainId: 'train-2', outcome: null, mergeSha: null, closedAt: null, workflowRunning: false }];
  expect(compareTruths(t).disagreements.map((d) => d.what)).toEqual([
    'the lease is held by train train-2, which is no longer running',
    'the record says train train-2 is running, but its workflow has ended',
  ]);
});

test('a train checking itself at its end is at rest: a canary left behind is a disagreement', () => {
  const t = agreeing();
  t.runs = { ...t.runs!, canary: { sha: B, owner: 'train-3', alive: true }, lease: { owner: 'train-3', since: 0 } };
  const report = compareTruths(t, 'train-3');
  expect(report.state).toBe('at-rest');
  expect(report.disagreements.map((d) => d.what)).toEqual(['canary bbbbbbbbbbbb of train train-3 is deployed while no train is rolling out']);
});

test('nothing serving, a proxy down or a tampered GitOps release is reported', () => {
  const t = agreeing();
  t.runs = { ...t.runs!, proxyAlive: false, stable: { sha: A, alive: false, routed: false } };
  t.gitops = { environment: 'dev', commit: null, problem: 'manifests/deployment.yaml was modified' };
  const what = compareTruths(t).disagreements.map((d) => d.what);
  expect(what).toEqual([
    'the GitOps release for dev does not verify: manifests/deployment.yaml was modified',
    'stable aaaaaaaaaaaa does not answer its health check',
    'the proxy is down: nothing serves the service',
  ]);
});

test('property: when runs, base, GitOps and record all name the same commit at rest, the invariant holds; changing any one breaks it', () => {
  const sha = fc.stringMatching(/^[0-9a-f]{40}$/);
  fc.assert(
    fc.property(sha, sha, fc.constantFrom('runs', 'gitops', 'record'), (x, y, broken) => {
      fc.pre(x !== y);
      const t = agreeing();
      t.runs!.stable!.sha = x;
      t.gitops.commit = x;
      t.record.lastPromoted!.mergeSha = x;
      t.record.lastMerged!.mergeSha = x;
      expect(compareTruths(t).held).toBe(true);
      if (broken === 'runs') t.runs!.stable!.sha = y;
      if (broken === 'gitops') t.gitops.commit = y;
      if (broken === 'record') t.record.lastPromoted!.mergeSha = y;
      return !compareTruths(t).held;
    }),
  );
});
