import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureGitopsRepo, GuardError, promote, trace, withdraw } from '../../../provenance/gitops';
import { loadOrCreateSigningKey, signStatement, verifyEnvelope } from '../../../provenance/signing';
import { verifyRelease, writeRelease } from '../../../provenance/release';
import { buildStatement, digestOf, DSSE_PAYLOAD_TYPE, IN_TOTO_STATEMENT_TYPE, SLSA_PROVENANCE_TYPE, sha256Hex, statementSchema } from '../../../core/provenance';
import { runCommand } from '../../../cli/command';
import { command as provenance } from '../../../cli/commands/provenance';
import { command as traceCli } from '../../../cli/commands/trace';
import { allow, commit, cr, evalReport, key, keyDir, lines, release, tmp } from '../../helpers/provenance-fixture';
const provenanceCommand = (argv: string[], print: (line: string) => void) => runCommand(provenance, argv, { print, error: print });
const traceCommand = (argv: string[], print: (line: string) => void) => runCommand(traceCli, argv, { print, error: print });


describe('in-toto statement, DSSE envelope, ed25519', () => {
  it('the statement is in-toto v1 with a SLSA v1 predicate: subjects, git commit, evidence digests', () => {
    const s = buildStatement({ 'manifests/b.yaml': sha256Hex('b'), 'manifests/a.yaml': sha256Hex('a') }, { trainId: 't', changeId: 'c', repo: '/r', commit, changeRequestDigest: digestOf(cr), evalReportDigest: digestOf(evalReport), policyDecisionDigest: digestOf(allow) });
    expect(statementSchema.parse(s)).toEqual(s);
    expect(s._type).toBe(IN_TOTO_STATEMENT_TYPE);
    expect(s.predicateType).toBe(SLSA_PROVENANCE_TYPE);
    expect(s.subject.map((x) => x.name)).toEqual(['manifests/a.yaml', 'manifests/b.yaml']);
    expect(s.predicate.buildDefinition.resolvedDependencies).toEqual(
      expect.arrayContaining([
        { uri: `git+file:///r@${commit}`, digest: { gitCommit: commit } },
        { name: 'change-request.json', digest: { sha256: digestOf(cr) } },
        { name: 'eval-report.json', digest: { sha256: digestOf(evalReport) } },
        { name: 'policy-decision.json', digest: { sha256: digestOf(allow) } },
      ]),
    );
  });

  it('signs and verifies; a changed payload or another key is refused', () => {
    const s = buildStatement({ x: sha256Hex('x') }, { trainId: 't', changeId: 'c', repo: '/r', commit, changeRequestDigest: 'a'.repeat(64), evalReportDigest: 'b'.repeat(64), policyDecisionDigest: 'c'.repeat(64) });
    const env = signStatement(s, key);
    expect(env.payloadType).toBe(DSSE_PAYLOAD_TYPE);
    expect(verifyEnvelope(env, key.publicKey)).toEqual(s);
    const forged = { ...s, subject: [{ name: 'x', digest: { sha256: sha256Hex('evil') } }] };
    expect(() => verifyEnvelope({ ...env, payload: Buffer.from(JSON.stringify(forged)).toString('base64') }, key.publicKey)).toThrow('the signature does not match the payload');
    const other = loadOrCreateSigningKey(tmp('other-key'));
    expect(() => verifyEnvelope(env, other.publicKey)).toThrow(/is not signed by key ed25519:/);
    expect(() => verifyEnvelope({ hello: 1 }, key.publicKey)).toThrow(/is not a DSSE envelope/);
  });

  it('the key is created once and reused', () => {
    expect(loadOrCreateSigningKey(keyDir).keyId).toBe(key.keyId);
    expect(fs.statSync(path.join(keyDir, 'provenance-ed25519.key')).mode & 0o777).toBe(0o600);
  });
});

describe('release bundles and `maestro provenance verify`', () => {
  it('verifies an untouched bundle (exit 0) and names each tampered file (exit 1)', async () => {
    const dir = path.join(tmp('release'), 'r1');
    writeRelease(dir, release(), key);
    const args = (d: string) => ['verify', d, '--key', path.join(keyDir, 'provenance-ed25519.pub')];
    const ok = lines();
    expect(await provenanceCommand(args(dir), ok.print)).toBe(0);
    expect(ok.out.join('\n')).toMatch(/signature {2}ok[\s\S]*commit {5}c0ffee[\s\S]*subject {4}manifests\/deployment.yaml {2}sha256:[0-9a-f]{64}[\s\S]*evidence {3}policy-decision.json/);

    fs.appendFileSync(path.join(dir, 'manifests/deployment.yaml'), '# sneaky\n');
    const bad = lines();
    expect(await provenanceCommand(args(dir), bad.print)).toBe(1);
    expect(bad.out.join('\n')).toContain('provenance verify FAILED: provenance check failed');
    expect(bad.out.join('\n')).toMatch(/manifests\/deployment.yaml was modified: sha256 [0-9a-f]{64}, the signed statement says [0-9a-f]{64}/);

    writeRelease(dir, release(), key);
    fs.writeFileSync(path.join(dir, 'evidence/eval-report.json'), JSON.stringify({ ...evalReport, score: 0.99 }));
    expect(() => verifyRelease(dir, key.publicKey)).toThrow(/evidence\/eval-report.json was modified/);

    // A promotion's bundle carries the gates' decision log, signed like the rest: edited, it fails verification.
    const decisions = [{ weight: 10, verdict: 'green', reasons: [], canary: { requests: 120, errors: 0, p95Ms: 41.2 } }];
    const { statement } = writeRelease(dir, { ...release(), healthGates: { plan: '1. setWeight 10% → gate …', decisions } }, key);
    expect(statement.predicate.buildDefinition.resolvedDependencies).toContainEqual({ name: 'health-gates.json', digest: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(verifyRelease(dir, key.publicKey).evidence['health-gates.json']).toBe(sha256Hex(fs.readFileSync(path.join(dir, 'evidence/health-gates.json'))));
    fs.writeFileSync(path.join(dir, 'evidence/health-gates.json'), JSON.stringify({ plan: '', decisions: [{ ...decisions[0], verdict: 'green', canary: { requests: 120, errors: 0, p95Ms: 12 } }] }));
    expect(() => verifyRelease(dir, key.publicKey)).toThrow(/evidence\/health-gates.json was modified/);

    writeRelease(dir, release(), key);
    expect(fs.existsSync(path.join(dir, 'evidence/health-gates.json'))).toBe(false);
    fs.writeFileSync(path.join(dir, 'manifests/extra.yaml'), 'kind: Secret\n');
    expect(() => verifyRelease(dir, key.publicKey)).toThrow('manifests/extra.yaml is not covered by the provenance');

    writeRelease(dir, release(), key);
    const envFile = path.join(dir, 'provenance.dsse.json');
    const env = JSON.parse(fs.readFileSync(envFile, 'utf8'));
    env.signatures[0].sig = Buffer.from('x'.repeat(64)).toString('base64');
    fs.writeFileSync(envFile, JSON.stringify(env));
    expect(() => verifyRelease(dir, key.publicKey)).toThrow('the signature does not match the payload');
    fs.writeFileSync(envFile, '{not json');
    expect(() => verifyRelease(dir, key.publicKey)).toThrow(/provenance.dsse.json is not valid JSON/);

    const missing = lines();
    expect(await provenanceCommand(['verify', 'no-such-release'], missing.print)).toBe(1);
    expect(missing.out[0]).toContain("no release 'no-such-release'");
    expect(await provenanceCommand([], lines().print)).toBe(2);
  });
});

describe('GitOps promotion with guards, and `maestro trace <env>`', () => {
  let repo: string;
  beforeAll(async () => {
    repo = path.join(tmp('gitops'), 'repo');
    await ensureGitopsRepo(repo);
  });
  const gitLog = () => execFileSync('git', ['-C', repo, 'log', '--format=%s'], { encoding: 'utf8' }).trim().split('\n');

  it('promotes dev → staging → prod as commits with the provenance attached; a retry is a no-op', async () => {
    const first = await promote({ repo, environment: 'dev', service: 'greeter', release: release(), by: 'maestro' }, key);
    expect(first.alreadyPromoted).toBe(false);
    expect((await promote({ repo, environment: 'dev', service: 'greeter', release: release(), by: 'maestro' }, key)).alreadyPromoted).toBe(true);
    await promote({ repo, environment: 'staging', service: 'greeter', release: release(), by: 'rita' }, key);
    await promote({ repo, environment: 'prod', service: 'greeter', release: release(), by: 'rita' }, key);
    expect(gitLog().slice(0, 3)).toEqual(['Promote greeter to prod @ c0ffee000000', 'Promote greeter to staging @ c0ffee000000', 'Promote greeter to dev @ c0ffee000000']);
    const body = execFileSync('git', ['-C', repo, 'log', '-1', '--format=%B'], { encoding: 'utf8' });
    expect(body).toMatch(/Maestro-Train: train-prov\nMaestro-Change: c-prov\nMaestro-Commit: c0ffee0+\nMaestro-Statement: sha256:[0-9a-f]{64}\nMaestro-Promoted-By: rita/);
    expect(verifyRelease(path.join(repo, 'environments/prod/greeter'), key.publicKey).statement.predicate.buildDefinition.externalParameters.environment).toBe('prod');
  });

  it('concurrent promotions of different services into one repository all land, one commit each', async () => {
    const shared = path.join(tmp('gitops-concurrent'), 'repo');
    const services = Array.from({ length: 8 }, (_, i) => `svc-${i}`);
    const results = await Promise.all(services.map((service) => promote({ repo: shared, environment: 'dev', service, release: release(), by: 'maestro' }, key)));
    expect(results.map((r) => r.alreadyPromoted)).toEqual(services.map(() => false));
    const subjects = execFileSync('git', ['-C', shared, 'log', '--format=%s'], { encoding: 'utf8' }).trim().split('\n');
    expect(subjects.filter((s) => s.startsWith('Promote ')).sort()).toEqual(services.map((s) => `Promote ${s} to dev @ c0ffee000000`).sort());
    expect(execFileSync('git', ['-C', shared, 'status', '--porcelain'], { encoding: 'utf8' })).toBe('');
  });

  it('guards: no skipping an environment, no denied decision, no unknown environment; nothing written', async () => {
    const next = 'beef'.padEnd(40, '1');
    const before = gitLog().length;
    await expect(promote({ repo, environment: 'prod', service: 'greeter', release: release({}, next), by: 'x' }, key)).rejects.toThrow(/staging runs c0ffee000000; promote through staging first/);
    await expect(promote({ repo, environment: 'staging', service: 'other', release: release(), by: 'x' }, key)).rejects.toThrow(/dev must run this commit first/);
    await expect(promote({ repo, environment: 'dev', service: 'greeter', release: release({ policyDecision: { outcome: 'deny', denials: [{ rule: 'secrets-in-diff' }] } }, next), by: 'x' }, key)).rejects.toThrow(
      "the policy decision is 'deny' (secrets-in-diff)",
    );
    await expect(promote({ repo, environment: 'qa' as never, service: 'greeter', release: release(), by: 'x' }, key)).rejects.toBeInstanceOf(GuardError);
    expect(gitLog().length).toBe(before);
    expect(fs.existsSync(path.join(repo, 'environments/staging/other'))).toBe(false);
  });

  it('trace shows the commit, the train and the evidence; a tampered environment shows as invalid', async () => {
    const out = lines();
    expect(await traceCommand(['prod', '--repo', repo, '--key', path.join(keyDir, 'provenance-ed25519.pub')], out.print)).toBe(0);
    const text = out.out.join('\n');
    expect(text).toContain('greeter  provenance verified');
    expect(text).toContain(`commit     ${commit}`);
    expect(text).toContain('train      train-prov  change c-prov');
    expect(text).toMatch(/promoted   \S+ by rita in GitOps commit [0-9a-f]{12}/);
    expect(text).toContain(`evidence   eval-report.json  sha256:${digestOf(evalReport)}`);
    expect(text).toContain('appeals    [{"decidedBy":"rita","id":"appeal-1","rules":["risk-above-threshold"],"status":"granted"}]');

    fs.appendFileSync(path.join(repo, 'environments/staging/greeter/manifests/deployment.yaml'), '  # edited by hand\n');
    const entries = await trace(repo, 'staging', key.publicKey);
    expect(entries[0]).toMatchObject({ service: 'greeter', verified: false, trainId: 'train-prov', commit });
    expect(entries[0]!.error).toContain('manifests/deployment.yaml was modified');
    expect(await traceCommand(['staging', '--repo', repo, '--key', path.join(keyDir, 'provenance-ed25519.pub')], lines().print)).toBe(1);
    expect(await traceCommand(['qa', '--repo', repo], lines().print)).toBe(1);
  });
});

describe('withdrawing a release (a promotion path compensated)', () => {
  it("puts the environment back on the release before the train's, in one commit; a retry or another train's release is left alone", async () => {
    const repo = path.join(tmp('gitops-withdraw'), 'repo');
    const next = 'beef'.padEnd(40, '1');
    const later = (trainId: string) => release({ evidence: { ...release().evidence, trainId, commit: next } }, next);
    await promote({ repo, environment: 'dev', service: 'greeter', release: release(), by: 'maestro' }, key);
    await promote({ repo, environment: 'dev', service: 'greeter', release: later('train-next'), by: 'maestro' }, key);
    const input = { repo, environment: 'dev' as const, service: 'greeter', trainId: 'train-next', by: 'maestro', reason: 'prod failed: error rate 100% > 1%' };

    const withdrawn = await withdraw(input, key.publicKey);
    expect(withdrawn.restoredCommit).toBe(commit);
    expect(withdrawn.gitopsCommit).toMatch(/^[0-9a-f]{40}$/);
    const entry = (await trace(repo, 'dev', key.publicKey))[0]!;
    expect(entry).toMatchObject({ service: 'greeter', commit, trainId: 'train-prov', verified: true });
    const body = execFileSync('git', ['-C', repo, 'log', '-1', '--format=%B'], { encoding: 'utf8' });
    expect(body).toMatch(/^Roll back greeter in dev to c0ffee000000\n\nTrain train-next's release of beef11111111 is withdrawn: prod failed: error rate 100% > 1%\n\nMaestro-Withdrawn-Train: train-next\nMaestro-Withdrawn-Commit: beef1{36}\n/);

    // A retry changes nothing; nor does withdrawing a train whose release is not the one there.
    const commits = () => execFileSync('git', ['-C', repo, 'rev-list', '--count', 'HEAD'], { encoding: 'utf8' }).trim();
    const count = commits();
    expect(await withdraw(input, key.publicKey)).toEqual({ gitopsCommit: null, restoredCommit: commit });
    expect(await withdraw({ ...input, trainId: 'train-someone-else' }, key.publicKey)).toEqual({ gitopsCommit: null, restoredCommit: commit });
    expect(commits()).toBe(count);
    expect(execFileSync('git', ['-C', repo, 'status', '--porcelain'], { encoding: 'utf8' })).toBe('');
  });

  it("removes the service's directory when the train's release was the environment's first", async () => {
    const repo = path.join(tmp('gitops-withdraw-first'), 'repo');
    await promote({ repo, environment: 'dev', service: 'greeter', release: release(), by: 'maestro' }, key);
    expect(await withdraw({ repo, environment: 'dev', service: 'greeter', trainId: 'train-prov', by: 'maestro', reason: 'staging failed' }, key.publicKey)).toMatchObject({ restoredCommit: null });
    expect(fs.existsSync(path.join(repo, 'environments/dev/greeter'))).toBe(false);
    expect(execFileSync('git', ['-C', repo, 'log', '-1', '--format=%s'], { encoding: 'utf8' }).trim()).toBe('Roll back greeter in dev to nothing');
  });
});
