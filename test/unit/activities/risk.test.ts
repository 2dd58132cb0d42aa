import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createCodegraphActivities } from '../../../activities/risk';
import { asWorkerRuns } from '../../helpers/interceptors';
import { resolveRelativeImport } from '../../../codegraph/ingest';
import { parseChangeRequest } from '../../../core/change-request';
import { RISK_WEIGHTS } from '../../../core/risk';
import type { Candidate } from '../../../core/stages';

const FILES: Record<string, string> = {
  'src/util.ts': 'export const twice = (n: number) => n * 2;\n',
  'src/a.ts': "import { twice } from './util';\nimport path from 'node:path';\nexport const a = twice(1) + path.sep.length;\n",
  'src/b.ts': "export { twice } from './util.js'; // ESM-style specifier naming util.ts\n",
  'src/c.js': "const { twice } = require('./util');\nmodule.exports = () => twice(2);\n",
  'src/lazy.ts': "export async function load() { return (await import('./util')).twice(3); }\nimport './a';\n",
  'src/lib/index.ts': "import type { a } from '../a';\nexport type A = typeof a;\nexport const again = require('../util');\n",
  'src/main.ts': "import * as lib from './lib';\nimport { a } from './a';\nconsole.log(lib, a);\n",
  'src/view.jsx': "import { twice } from './util';\nexport const View = () => <b>{twice(4)}</b>;\n",
  'src/broken.ts': "import { twice } from './util';\nexport const = ;\n",
  'infra/deploy.ts': "import '../src/main';\n",
  'node_modules/dep/index.js': "require('../../src/util');\n",
  'README.md': '# example\n',
};

let repo: string;
let baseSha: string;
let candidateSha: string;

const git = (...args: string[]) =>
  execFileSync('git', ['-C', repo, '-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' }).trim();

beforeAll(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-codegraph-'));
  git('init', '-q', '-b', 'main');
  for (const [file, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    fs.writeFileSync(path.join(repo, file), text);
  }
  git('add', '-A', '-f');
  git('commit', '-q', '-m', 'base');
  baseSha = git('rev-parse', 'HEAD');
  fs.writeFileSync(path.join(repo, 'src/util.ts'), 'export const twice = (n: number) => n + n;\n');
  fs.writeFileSync(path.join(repo, 'infra/deploy.ts'), "import '../src/main';\nexport {};\n");
  git('commit', '-q', '-am', 'candidate');
  candidateSha = git('rev-parse', 'HEAD');
  // The scan reads the commit, not the work tree: dirty files must not leak in.
  fs.writeFileSync(path.join(repo, 'src/util.ts'), 'this is not typescript (');
});

afterAll(() => {
  fs.rmSync(repo, { recursive: true, force: true });
});

function changeRequest(protectedPaths: string[] = []) {
  return parseChangeRequest({
    id: 'util-1',
    title: 'Faster twice',
    intent: 'Compute twice by addition.',
    repo,
    service: 'example',
    change: { kind: 'codemod', codemod: { codemod: 'replace-literal', file: 'src/util.ts', from: 'n * 2', to: 'n + n' } },
    protectedPaths,
  });
}

function candidate(changedFiles: string[], overrides: Partial<Candidate> = {}): Candidate {
  return {
    branch: 'maestro/util-1',
    baseSha,
    sha: candidateSha,
    changedFiles,
    diffStat: { files: changedFiles.length, insertions: 2, deletions: 1 },
    diff: '',
    service: { entry: 'src/main.ts', healthPath: '/healthz', test: ['{node}', '--test'] },
    ...overrides,
  };
}

describe('resolveRelativeImport', () => {
  const files = new Set(['src/util.ts', 'src/lib/index.ts', 'src/data.json', 'src/esm.mts']);
  it.each([
    ['src/a.ts', './util', 'src/util.ts'],
    ['src/a.ts', './util.js', 'src/util.ts'],
    ['src/a.ts', './lib', 'src/lib/index.ts'],
    ['src/lib/index.ts', '..', undefined],
    ['src/lib/index.ts', '../util', 'src/util.ts'],
    ['src/a.ts', './data.json', 'src/data.json'],
    ['src/a.ts', './esm.mjs', 'src/esm.mts'],
    ['src/a.ts', 'zod', undefined],
    ['src/a.ts', '../../outside', undefined],
  ])('%s imports %s → %s', (importer, specifier, expected) => {
    expect(resolveRelativeImport(importer, specifier, files)).toBe(expected);
  });
});

describe('assessRisk activity', () => {
  const { assessRisk } = asWorkerRuns(createCodegraphActivities());

  it('scores centrality from the graph at the candidate commit and names unparsed files', async () => {
    const report = await assessRisk({ changeRequest: changeRequest(), candidate: candidate(['src/util.ts']) });
    const centrality = report.factors.find((f) => f.name === 'centrality')!;
    // util.ts: imported by 6 of the 10 files, the highest PageRank (rel 1), betweenness 0.
    expect(centrality.value).toBeCloseTo(0.5 * (6 / 9) + 0.25 * 1, 5);
    expect(centrality.detail).toContain(`graph memory@${candidateSha.slice(0, 12)} (10 files)`);
    expect(centrality.detail).toContain('most central touched node: src/util.ts (fan-in 6');
    expect(report.factors.map((f) => f.name)).toEqual(['centrality', 'change size', 'protected paths', 'owner familiarity', 'churn', 'test coverage']);
    expect(centrality.detail).toContain('skipped 1 unparseable file(s): src/broken.ts');
    expect(report.factors.find((f) => f.name === 'protected paths')!.value).toBe(0);
    expect(report.score).toBeGreaterThan(0);
  });

  it('scores a leaf file lower than a hub and raises the score for protected paths', async () => {
    const leaf = await assessRisk({ changeRequest: changeRequest(), candidate: candidate(['infra/deploy.ts']) });
    const hub = await assessRisk({ changeRequest: changeRequest(), candidate: candidate(['src/util.ts']) });
    const leafProtected = await assessRisk({ changeRequest: changeRequest(['infra/**']), candidate: candidate(['infra/deploy.ts']) });
    expect(leaf.factors.find((f) => f.name === 'centrality')!.value).toBe(0);
    expect(hub.score).toBeGreaterThan(leaf.score);
    expect(leafProtected.score).toBeCloseTo(leaf.score + RISK_WEIGHTS.protected, 5);
    expect(leafProtected.factors.find((f) => f.name === 'protected paths')!.detail).toContain('infra/deploy.ts');
  });

  it('fails without retry for a commit the repository does not have', async () => {
    const failure = await assessRisk({ changeRequest: changeRequest(), candidate: candidate(['src/util.ts'], { sha: 'f'.repeat(40) }) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
  });

  it('fails without retry for malformed input, naming the field', async () => {
    const failure = await assessRisk({ changeRequest: changeRequest(), candidate: candidate(['src/util.ts'], { sha: 'HEAD; rm -rf /' }) }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect((failure as Error).message).toContain('sha');
  });
});

describe('assessRisk consults the graph for every score', () => {
  it('reads the store and reports the centrality factor for every change, even an empty one', async () => {
    const { MemoryGraphStore } = await import('../../../codegraph/memory-store');
    let snapshots = 0;
    const { assessRisk } = createCodegraphActivities({
      storeFor: () => {
        const store = new MemoryGraphStore();
        const snapshot = store.snapshot.bind(store);
        store.snapshot = async () => (snapshots++, snapshot());
        return store;
      },
    });
    const changes = [[], ['src/util.ts'], ['infra/deploy.ts', 'src/a.ts'], ['README.md']];
    for (const files of changes) {
      const report = await assessRisk({ changeRequest: changeRequest(), candidate: candidate(files) });
      expect(report.factors[0]!.name).toBe('centrality');
      expect(report.factors[0]!.detail).toMatch(/^graph memory@/);
    }
    expect(snapshots).toBe(1); // one ingest + analysis of the commit, then cached
  });
});

describe('assessRisk of a change deleting a file', () => {
  let dir: string;
  let base: string;
  let deleting: string;
  const g = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' }).trim();

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-codegraph-delete-'));
    g('init', '-q', '-b', 'main');
    const files: Record<string, string> = { 'src/hub.ts': 'export const hub = (n: number) => n + 1;\n', 'src/leaf.ts': 'export const leaf = 1;\n' };
    for (const name of ['a', 'b', 'c', 'd']) files[`src/${name}.ts`] = `import { hub } from './hub';\nexport const ${name} = hub(1);\n`;
    fs.mkdirSync(path.join(dir, 'src'));
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
    g('add', '-A');
    g('commit', '-q', '-m', 'base');
    base = g('rev-parse', 'HEAD');
    g('rm', '-q', 'src/hub.ts');
    g('commit', '-q', '-m', 'delete the hub');
    deleting = g('rev-parse', 'HEAD');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const request = () =>
    parseChangeRequest({
      id: 'hub-1',
      title: 'Drop hub',
      intent: 'Delete the hub.',
      repo: dir,
      service: 'example',
      change: { kind: 'codemod', codemod: { codemod: 'replace-literal', file: 'src/hub.ts', from: 'n + 1', to: 'n' } },
    });
  const deletion = (overrides: Partial<Candidate> = {}): Candidate => ({
    branch: 'maestro/hub-1',
    baseSha: base,
    sha: deleting,
    changedFiles: ['src/hub.ts'],
    diffStat: { files: 1, insertions: 0, deletions: 1 },
    diff: '',
    service: { entry: 'src/a.ts', healthPath: '/healthz', test: ['{node}', '--test'] },
    ...overrides,
  });

  it('takes the deleted file’s centrality from the base commit’s graph (deleting a hub is risky)', async () => {
    const { assessRisk } = asWorkerRuns(createCodegraphActivities());
    const report = await assessRisk({ changeRequest: request(), candidate: deletion() });
    const centrality = report.factors.find((f) => f.name === 'centrality')!;
    // hub.ts at the base: imported by 4 of the 6 files, the highest PageRank.
    expect(centrality.value).toBeCloseTo(0.5 * (4 / 5) + 0.25 * 1, 5);
    expect(centrality.detail).toContain(`graph memory@${deleting.slice(0, 12)} (5 files)`);
    expect(centrality.detail).toContain(`most central touched node: src/hub.ts, deleted (centrality in the base graph memory@${base.slice(0, 12)}) (fan-in 4`);
    // A leaf is not central.
    const leaf = await assessRisk({ changeRequest: request(), candidate: deletion({ changedFiles: ['src/leaf.ts'] }) });
    expect(leaf.factors.find((f) => f.name === 'centrality')!.value).toBe(0);
    expect(report.score).toBeGreaterThan(leaf.score);
  });

  it('without a base commit, a deleted file counts as isolated', async () => {
    const { assessRisk } = asWorkerRuns(createCodegraphActivities());
    const { baseSha: _omitted, ...noBase } = deletion();
    const report = await assessRisk({ changeRequest: request(), candidate: noBase as Candidate });
    expect(report.factors.find((f) => f.name === 'centrality')!.value).toBe(0);
  });
});
