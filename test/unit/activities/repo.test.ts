import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createDemoRepo, loadExampleChange } from '../../../examples/demo-repo';
import { createRepoActivities } from '../../../activities/repo';
import { asWorkerRuns } from '../../helpers/interceptors';
import { git, resolveCommit } from '../../../io/git';
import { parseChangeRequest, type ChangeRequest } from '../../../core/change-request';

let tmp: string;
let activities: ReturnType<typeof createRepoActivities>;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-repo-'));
  activities = asWorkerRuns(createRepoActivities({ workRoot: path.join(tmp, 'work') }));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
async function freshRepo(): Promise<{ repo: string; baseSha: string }> {
  return createDemoRepo(path.join(tmp, `repo-${++counter}`));
}
const out = async (cwd: string, args: string[]): Promise<string> => (await git(cwd, args)).stdout.trim();

/** A patch made by editing a scratch copy of the demo repo, so it always matches the base. */
async function patchFrom(edit: (dir: string) => Promise<void>): Promise<string> {
  const { repo } = await freshRepo();
  await edit(repo);
  return out(repo, ['diff']).then((diff) => diff + '\n');
}

function patchChange(repo: string, id: string, diff: string): ChangeRequest {
  return parseChangeRequest({ id, title: id, intent: 'test', repo, service: 'greeter', change: { kind: 'patch', diff } });
}

async function expectNonRetryable(promise: Promise<unknown>, pattern: RegExp): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toMatch(pattern);
  return failure;
}

describe('example changes', () => {
  it.each(['good-change', 'bad-change', 'failing-tests-change'])('%s applies with git apply to the demo repo', async (name) => {
    const { repo } = await freshRepo();
    const cr = loadExampleChange(name, repo, `check-${name}`);
    expect(cr.repo).toBe(repo);
    if (cr.change.kind !== 'patch') throw new Error('example changes are patches');
    await git(repo, ['apply', '--check', '-'], { input: cr.change.diff });
  });
});

describe('prepareChange and mergeCandidate', () => {
  it('prepares the good change on its own branch, merges it, and both are idempotent', async () => {
    const { repo, baseSha } = await freshRepo();
    const cr = loadExampleChange('good-change', repo, 'greet-in-languages');

    const candidate = await activities.prepareChange(cr);
    expect(candidate.branch).toBe('maestro/greet-in-languages');
    expect(candidate.baseSha).toBe(baseSha);
    expect(await resolveCommit(repo, 'refs/heads/maestro/greet-in-languages')).toBe(candidate.sha);
    expect(candidate.changedFiles).toEqual(['README.md', 'src/app.ts', 'src/greeting.ts', 'test/app.test.ts', 'test/greeting.test.ts']);
    expect(candidate.diffStat.files).toBe(5);
    expect(candidate.diffStat.insertions).toBeGreaterThan(candidate.diffStat.deletions);
    expect(candidate.diff).toContain("fr: 'Bonjour, {name} !'");
    expect(candidate.service).toEqual({
      entry: 'src/server.ts',
      healthPath: '/healthz',
      test: ['{node}', '{tsx}', '--test', 'test/greeting.test.ts', 'test/app.test.ts', 'test/people.test.ts'],
    });
    expect(await out(repo, ['log', '-1', '--format=%B', candidate.sha])).toContain('Maestro-Change: greet-in-languages');
    expect(await out(repo, ['log', '-1', '--format=%cn <%ce>', candidate.sha])).toBe('Maestro Conductor <maestro@localhost>');
    // The user's checkout is untouched: same HEAD, clean tree, no extra work trees left behind.
    expect(await out(repo, ['rev-parse', 'HEAD'])).toBe(baseSha);
    expect(await out(repo, ['status', '--porcelain'])).toBe('');
    expect((await out(repo, ['worktree', 'list'])).split('\n')).toHaveLength(1);

    const again = await activities.prepareChange(cr);
    expect(again).toEqual(candidate);
    expect(await out(repo, ['rev-list', '--count', `${baseSha}..maestro/greet-in-languages`])).toBe('1');

    // A local edit to a file the merge does not touch survives the merge of the checked-out main.
    await fs.appendFile(path.join(repo, 'package.json'), '\n');
    const merge = await activities.mergeCandidate({ changeRequest: cr, candidate });
    expect(merge).toEqual({ mergeSha: expect.stringMatching(/^[0-9a-f]{40}$/), candidateSha: candidate.sha, baseBranch: 'main', alreadyMerged: false });
    expect(await out(repo, ['rev-parse', 'main'])).toBe(merge.mergeSha);
    expect(await out(repo, ['log', '-1', '--format=%P', merge.mergeSha])).toBe(`${baseSha} ${candidate.sha}`);
    expect(await fs.readFile(path.join(repo, 'src/greeting.ts'), 'utf8')).toContain('SALUTATIONS');
    expect(await out(repo, ['status', '--porcelain'])).toBe('M package.json');

    const mergeAgain = await activities.mergeCandidate({ changeRequest: cr, candidate });
    expect(mergeAgain).toEqual({ ...merge, alreadyMerged: true });
    expect(await out(repo, ['rev-parse', 'main'])).toBe(merge.mergeSha);
  });

  it('reverts a merge after a rollback, keeping later commits, idempotently; a conflicting revert is refused', async () => {
    const { repo, baseSha } = await freshRepo();
    const bad = loadExampleChange('bad-change', repo, 'request-ids');
    const merge = await activities.mergeCandidate({ changeRequest: bad, candidate: await activities.prepareChange(bad) });
    // A later, unrelated change lands on main before the rollback: the revert must keep it.
    const good = loadExampleChange('good-change', repo, 'greet-in-languages');
    const goodMerge = await activities.mergeCandidate({ changeRequest: good, candidate: await activities.prepareChange(good) });

    const reverted = await activities.revertMerge({ changeRequest: bad, merge, reason: 'health gate at 10% failed' });
    expect(reverted.alreadyReverted).toBe(false);
    expect(await out(repo, ['rev-parse', 'main'])).toBe(reverted.revertSha);
    expect(await out(repo, ['log', '-1', '--format=%P', reverted.revertSha])).toBe(goodMerge.mergeSha);
    expect(await out(repo, ['log', '-1', '--format=%B', reverted.revertSha])).toContain(`Maestro-Revert: ${merge.mergeSha}`);
    expect(await out(repo, ['diff', '--stat', baseSha, 'main', '--', 'src/server.ts'])).toBe('');
    expect(await out(repo, ['diff', goodMerge.mergeSha, 'main', '--', 'src/greeting.ts'])).toBe('');
    // The checked-out main follows, with a clean tree.
    expect(await fs.readFile(path.join(repo, 'src/server.ts'), 'utf8')).not.toContain('REQUEST_ID_POOL');
    expect(await out(repo, ['status', '--porcelain'])).toBe('');

    expect(await activities.revertMerge({ changeRequest: bad, merge, reason: 'retry' })).toEqual({ ...reverted, alreadyReverted: true });

    // Reverting the good change after a later edit of the same lines cannot be done automatically.
    await fs.appendFile(path.join(repo, 'src/greeting.ts'), '// a later edit\n');
    const goodSha = await out(repo, ['rev-parse', 'main']);
    await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'later edit', '--no-verify']);
    await fs.writeFile(path.join(repo, 'src/greeting.ts'), (await fs.readFile(path.join(repo, 'src/greeting.ts'), 'utf8')).replace("fr: 'Bonjour, {name} !'", "fr: 'Salut, {name} !'"));
    await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'edit the same lines', '--no-verify']);
    const tip = await out(repo, ['rev-parse', 'main']);
    expect(tip).not.toBe(goodSha);
    await expectNonRetryable(activities.revertMerge({ changeRequest: good, merge: goodMerge, reason: 'x' }), /conflicts with later commits/);
    expect(await out(repo, ['rev-parse', 'main'])).toBe(tip);
  });

  it('says whether a merge is still what the base branch says: its tip, or a later commit with the same tree', async () => {
    const { repo } = await freshRepo();
    const bad = loadExampleChange('bad-change', repo, 'request-ids');
    const merge = await activities.mergeCandidate({ changeRequest: bad, candidate: await activities.prepareChange(bad) });
    const check = () => activities.checkMergeIsBaseTip({ repo, baseBranch: 'main', mergeSha: merge.mergeSha });
    expect(await check()).toEqual({ isTip: true, tipSha: merge.mergeSha });
    // An empty commit on top changes nothing that runs.
    await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'empty', '--no-verify']);
    expect((await check()).isTip).toBe(true);
    const good = loadExampleChange('good-change', repo, 'greet-in-languages');
    const goodMerge = await activities.mergeCandidate({ changeRequest: good, candidate: await activities.prepareChange(good) });
    const moved = await check();
    expect(moved).toMatchObject({ isTip: false, tipSha: goodMerge.mergeSha });
    expect(moved.reason).toMatch(/^main moved past merge [0-9a-f]{12} to [0-9a-f]{12} \([0-9a-f]+ Merge maestro\/greet-in-languages/);
  });

  it('refuses (retryably) to merge over local edits to merged files, changing nothing', async () => {
    const { repo, baseSha } = await freshRepo();
    const cr = loadExampleChange('good-change', repo, 'dirty-checkout');
    const candidate = await activities.prepareChange(cr);
    await fs.appendFile(path.join(repo, 'src/app.ts'), '// local edit\n');
    const error = await activities.mergeCandidate({ changeRequest: cr, candidate }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(false);
    expect((error as ApplicationFailure).message).toMatch(/local changes to src\/app\.ts/);
    expect(await out(repo, ['rev-parse', 'main'])).toBe(baseSha);
    expect(await fs.readFile(path.join(repo, 'src/app.ts'), 'utf8')).toMatch(/\/\/ local edit\n$/);
  });

  it('merges into a base branch that is not checked out', async () => {
    const { repo, baseSha } = await freshRepo();
    await git(repo, ['checkout', '--quiet', '-b', 'elsewhere']);
    const cr = loadExampleChange('good-change', repo, 'not-checked-out');
    const candidate = await activities.prepareChange(cr);
    const merge = await activities.mergeCandidate({ changeRequest: cr, candidate });
    expect(await out(repo, ['rev-parse', 'main'])).toBe(merge.mergeSha);
    expect(await out(repo, ['rev-parse', 'HEAD'])).toBe(baseSha);
    expect(await out(repo, ['status', '--porcelain'])).toBe('');
  });

  it('rejects a diff that does not apply, naming the file, and creates no branch', async () => {
    const { repo } = await freshRepo();
    const diff = [
      'diff --git a/src/greeting.ts b/src/greeting.ts',
      '--- a/src/greeting.ts',
      '+++ b/src/greeting.ts',
      '@@ -1,1 +1,1 @@',
      '-this line is not in the file',
      '+replacement',
      '',
    ].join('\n');
    const failure = await expectNonRetryable(activities.prepareChange(patchChange(repo, 'bad-diff', diff)), /diff does not apply to src\/greeting\.ts/);
    expect(failure.type).toBe('PatchDoesNotApply');
    expect(failure.message).toMatch(/patch failed: src\/greeting\.ts:1/);
    expect(await resolveCommit(repo, 'refs/heads/maestro/bad-diff')).toBeUndefined();
    expect((await out(repo, ['worktree', 'list'])).split('\n')).toHaveLength(1);
  });

  it('rejects a candidate whose maestro.service.json is invalid, naming the field', async () => {
    const { repo } = await freshRepo();
    const diff = await patchFrom((dir) => fs.writeFile(path.join(dir, 'maestro.service.json'), JSON.stringify({ entry: 'src/server.ts' })));
    const failure = await expectNonRetryable(activities.prepareChange(patchChange(repo, 'no-test-command', diff)), /maestro\.service\.json[\s\S]*test: required/);
    expect(failure.type).toBe('InvalidServiceDescriptor');
    expect(await resolveCommit(repo, 'refs/heads/maestro/no-test-command')).toBeUndefined();

    const removal = await patchFrom((dir) => fs.rm(path.join(dir, 'maestro.service.json')));
    await expectNonRetryable(activities.prepareChange(patchChange(repo, 'no-descriptor', removal)), /maestro\.service\.json is missing/);
  });

  it('prepares a rename-symbol codemod across files', async () => {
    const { repo } = await freshRepo();
    const cr = parseChangeRequest({
      id: 'rename-normalize',
      title: 'Rename normalizeName',
      intent: 'clearer name',
      repo,
      service: 'greeter',
      change: { kind: 'codemod', codemod: { codemod: 'rename-symbol', from: 'normalizeName', to: 'canonicalName' } },
    });
    const candidate = await activities.prepareChange(cr);
    expect(candidate.changedFiles).toEqual(['src/greeting.ts', 'test/greeting.test.ts']);
    expect(candidate.diff).toContain('+export function canonicalName(');

    const unknown = { ...cr, id: 'rename-unknown', change: { kind: 'codemod' as const, codemod: { codemod: 'rename-symbol' as const, from: 'nope', to: 'x', scope: 'src' } } };
    await expectNonRetryable(activities.prepareChange(unknown), /no declaration of 'nope'/);
  });

  it('rejects a change that makes no difference and a repo that is not a git repository', async () => {
    const { repo } = await freshRepo();
    const noop = parseChangeRequest({
      id: 'noop',
      title: 'noop',
      intent: 'noop',
      repo,
      service: 'greeter',
      change: { kind: 'codemod', codemod: { codemod: 'replace-literal', file: 'README.md', from: 'greeter-service', to: 'greeter-service' } },
    });
    await expectNonRetryable(activities.prepareChange(noop), /same|no difference/);
    await expectNonRetryable(activities.prepareChange({ ...noop, repo: path.join(tmp, 'nowhere') }), /not a git repository/);
  });
});

describe('a change by reference: a branch or commit already in the repository', () => {
  /** The good change committed on `feature/greet` of the repo itself; main then moves on with an unrelated commit. */
  async function repoWithBranch(): Promise<{ repo: string; branchSha: string }> {
    const { repo } = await freshRepo();
    const diff = loadExampleChange('good-change', repo, 'x').change;
    if (diff.kind !== 'patch') throw new Error('good-change is a patch');
    await git(repo, ['checkout', '--quiet', '-b', 'feature/greet']);
    await git(repo, ['apply', '--index', '-'], { input: diff.diff });
    await git(repo, ['-c', 'user.name=dev', '-c', 'user.email=dev@localhost', 'commit', '--quiet', '-m', 'greet in languages']);
    const branchSha = await out(repo, ['rev-parse', 'HEAD']);
    await git(repo, ['checkout', '--quiet', 'main']);
    await fs.appendFile(path.join(repo, 'package.json'), '\n');
    await git(repo, ['-c', 'user.name=dev', '-c', 'user.email=dev@localhost', 'commit', '--quiet', '-am', 'unrelated']);
    return { repo, branchSha };
  }
  const refChange = (repo: string, id: string, ref: string) =>
    parseChangeRequest({ id, title: id, intent: 'greet in languages', repo, service: 'greeter', change: { kind: 'ref', ref } });

  it('takes the changes of a branch since it left the base branch onto the base tip; by commit id too', async () => {
    const { repo, branchSha } = await repoWithBranch();
    const mainSha = await out(repo, ['rev-parse', 'main']);
    const byBranch = await activities.prepareChange(refChange(repo, 'by-branch', 'feature/greet'));
    expect(byBranch.baseSha).toBe(mainSha);
    expect(byBranch.changedFiles).toEqual(['README.md', 'src/app.ts', 'src/greeting.ts', 'test/app.test.ts', 'test/greeting.test.ts']);
    expect(await out(repo, ['log', '-1', '--format=%B', byBranch.sha])).toContain('Maestro-Change: by-branch');
    const bySha = await activities.prepareChange(refChange(repo, 'by-sha', branchSha.slice(0, 12)));
    expect(await out(repo, ['rev-parse', `${bySha.sha}^{tree}`])).toBe(await out(repo, ['rev-parse', `${byBranch.sha}^{tree}`]));
    // The user's branch is left as it was.
    expect(await out(repo, ['rev-parse', 'feature/greet'])).toBe(branchSha);
  });

  it('a ref the repository does not have, or one with no history in common, is refused saying so', async () => {
    const { repo } = await repoWithBranch();
    await expectNonRetryable(activities.prepareChange(refChange(repo, 'missing', 'feature/nope')), /ref 'feature\/nope' is neither a branch nor a commit of .*; branches: feature\/greet, main/);
    await git(repo, ['checkout', '--quiet', '--orphan', 'stranger']);
    await git(repo, ['-c', 'user.name=dev', '-c', 'user.email=dev@localhost', 'commit', '--quiet', '-m', 'unrelated root']);
    await git(repo, ['checkout', '--quiet', 'main']);
    await expectNonRetryable(activities.prepareChange(refChange(repo, 'stranger', 'stranger')), /ref 'stranger' \([0-9a-f]{12}\) shares no history with main/);
  });
});
