import path from 'node:path';
import { createProvenanceActivities as createProvenanceActivitiesUnwrapped } from '../../../activities/provenance';
import { createRecordActivities } from '../../../activities/record';
import { runCommand } from '../../../cli/command';
import { command as provenance } from '../../../cli/commands/provenance';
import { asWorkerRuns } from '../../helpers/interceptors';

// Called directly, the activities run through the worker's interceptor as they would on a worker.
const createProvenanceActivities = (...args: Parameters<typeof createProvenanceActivitiesUnwrapped>) => asWorkerRuns(createProvenanceActivitiesUnwrapped(...args));
const provenanceCommand = (argv: string[], print: (line: string) => void) => runCommand(provenance, argv, { print, error: print });
import { freshDatabase, type FreshDb } from '../../helpers/fresh-db';
import { allow, commit, cr, evalReport, key, keyDir, lines, release, tmp } from '../../helpers/provenance-fixture';


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
    // The fixture's repository is not on disk: the environment's files come rendered (a train's are rendered from its repo).
    const promoted = { ...base, manifests: release().manifests };
    await acts.promoteRelease({ environment: 'dev', service: 'greeter', by: 'maestro', release: promoted });
    await acts.promoteRelease({ environment: 'dev', service: 'greeter', by: 'maestro', release: promoted });
    const rows = await db.prisma.provenance.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((r) => `${r.kind}:${r.environment}`)).toEqual(['merge:', 'release:dev']);
    const out = lines();
    expect(await provenanceCommand(['verify', 'train-prov', '--releases', releasesDir, '--key', path.join(keyDir, 'provenance-ed25519.pub')], out.print)).toBe(0);
    await expect(acts.promoteRelease({ environment: 'prod', service: 'greeter', by: 'maestro', release: promoted })).rejects.toMatchObject({ type: 'Guard:order', nonRetryable: true });
  });
});
