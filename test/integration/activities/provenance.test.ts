import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProvenanceActivities as createProvenanceActivitiesUnwrapped } from '../../../activities/provenance';
import { createRecordActivities } from '../../../activities/record';
import { parseChangeRequest } from '../../../core/change-request';
import { runCommand } from '../../../cli/command';
import { command as provenance } from '../../../cli/commands/provenance';
import { renderManifests } from '../../../provenance/gitops';
import { loadOrCreateSigningKey } from '../../../provenance/signing';
import type { ReleaseInput } from '../../../provenance/release';
import { asWorkerRuns } from '../../helpers/interceptors';

// Called directly, the activities run through the worker's interceptor as they would on a worker.
const createProvenanceActivities = (...args: Parameters<typeof createProvenanceActivitiesUnwrapped>) => asWorkerRuns(createProvenanceActivitiesUnwrapped(...args));
const provenanceCommand = (argv: string[], print: (line: string) => void) => runCommand(provenance, argv, { print, error: print });
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `maestro-${p}-`));
const keyDir = tmp('keys');
const key = loadOrCreateSigningKey(keyDir);
const commit = 'c0ffee'.padEnd(40, '0');
const cr = parseChangeRequest({ id: 'c-prov', title: 't', intent: 'i', repo: '/srv/repos/greeter', service: 'greeter', change: { kind: 'patch', diff: 'x' } });
const evalReport = { score: 0.93, passed: true, threshold: 0.85, durationMs: 5, checks: [] };
const allow = { outcome: 'allow', notes: ['ok'] };
const release = (over: Partial<ReleaseInput> = {}, c = commit): ReleaseInput => ({
  manifests: renderManifests({ service: 'greeter', commit: c, environment: 'dev' }),
  changeRequest: cr,
  evalReport,
  policyDecision: allow,
  evidence: { trainId: 'train-prov', changeId: cr.id, repo: cr.repo, commit: c, appeals: [{ id: 'appeal-1', status: 'granted', decidedBy: 'rita', rules: ['risk-above-threshold'] }] },
  ...over,
});
const lines = () => {
  const out: string[] = [];
  return { print: (l: string) => void out.push(l), out };
};

describe('provenance activities record the envelope', () => {
  let db: FreshDb;
  beforeAll(async () => {
    db = await freshDatabase('prov');
  });
  afterAll(() => db.drop());

  it('merge and release provenance land in the record once, and verify from the releases directory', async () => {
    await createRecordActivities({ prisma: db.prisma }).recordTrainStarted({ trainId: 'train-prov', changeRequest: cr });
    const releasesDir = tmp('releases');
    const acts = createProvenanceActivities({ key, gitopsRepo: path.join(tmp('gitops2'), 'repo'), releasesDir, prisma: db.prisma });
    const merge = { repo: cr.repo, baseBranch: 'main', mergeSha: commit, candidateSha: 'f'.repeat(40) };
    const base = { changeRequest: cr, evalReport, policyDecision: allow, evidence: release().evidence };
    const m1 = await acts.recordMergeProvenance({ ...base, merge });
    const m2 = await acts.recordMergeProvenance({ ...base, merge });
    expect(m2.statementDigest).toBe(m1.statementDigest);
    await acts.promoteRelease({ environment: 'dev', service: 'greeter', by: 'maestro', release: base });
    await acts.promoteRelease({ environment: 'dev', service: 'greeter', by: 'maestro', release: base });
    const rows = await db.prisma.provenance.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((r) => `${r.kind}:${r.environment}`)).toEqual(['merge:', 'release:dev']);
    const out = lines();
    expect(await provenanceCommand(['verify', 'train-prov', '--releases', releasesDir, '--key', path.join(keyDir, 'provenance-ed25519.pub')], out.print)).toBe(0);
    await expect(acts.promoteRelease({ environment: 'prod', service: 'greeter', by: 'maestro', release: base })).rejects.toMatchObject({ type: 'Guard:order', nonRetryable: true });
  });
});
