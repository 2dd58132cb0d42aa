/**
 * A seeded corpus of candidate commits on a real greeter repository (examples/greeter-service):
 * the base commit carries a bug (names are no longer whitespace-normalised, so the test
 * 'normalizes whitespace in names' fails), and each candidate is a branch on top of it.
 *
 *   good-fix       fixes the bug and adds a test that reproduces it            → must pass
 *   tests-broken   fixes the bug but changes the greeting, breaking 4 tests    → must score below threshold
 *   api-changed    fixes the bug and renames the exported normalizeName         → below threshold
 *   not-fixed      adds a reproducing test but leaves the bug in place          → below threshold
 *   risky-file     fixes the bug but also edits src/server.ts (protected)       → below threshold
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { git } from '../../io/git';
import { createDemoRepo } from '../demo-repo';

export const CORPUS_PROTECTED_PATHS = ['src/server.ts', 'maestro.service.json'];
export type CorpusName = 'good-fix' | 'tests-broken' | 'api-changed' | 'not-fixed' | 'risky-file';
export const KNOWN_GOOD: CorpusName[] = ['good-fix'];
export const KNOWN_BAD: CorpusName[] = ['tests-broken', 'api-changed', 'not-fixed', 'risky-file'];

const GIT_ID = ['-c', 'user.name=Corpus', '-c', 'user.email=corpus@maestro.localhost', '-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null'];
const BUGGY = "const collapsed = (rawName ?? '').trim();";
const FIXED = "const collapsed = (rawName ?? '').replace(/\\s+/g, ' ').trim();";
const NEW_TEST = `
test('collapses newlines and tabs inside names', () => {
  assert.equal(normalizeName('Ada\\n\\tLovelace'), 'Ada Lovelace');
});
`;

async function edit(repo: string, file: string, fn: (text: string) => string): Promise<void> {
  const target = path.join(repo, file);
  const before = await fs.readFile(target, 'utf8');
  const after = fn(before);
  if (after === before) throw new Error(`corpus edit of ${file} changed nothing`);
  await fs.writeFile(target, after);
}

async function commit(repo: string, message: string): Promise<string> {
  await git(repo, ['add', '--all']);
  await git(repo, [...GIT_ID, 'commit', '--quiet', '-m', message]);
  return (await git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
}

export interface GreeterCorpus {
  repo: string;
  /** The clean import. */
  rootSha: string;
  /** The buggy base every candidate starts from. */
  baseSha: string;
  candidates: Record<CorpusName, string>;
}

const CANDIDATES: Record<CorpusName, (repo: string) => Promise<void>> = {
  'good-fix': async (repo) => {
    await edit(repo, 'src/greeting.ts', (t) => t.replace(BUGGY, FIXED));
    await edit(repo, 'test/greeting.test.ts', (t) => t + NEW_TEST);
  },
  'tests-broken': async (repo) => {
    await edit(repo, 'src/greeting.ts', (t) => t.replace(BUGGY, FIXED).replace('message: `Hello, ${name}!`', 'message: `Hi ${name}`'));
    await edit(repo, 'test/greeting.test.ts', (t) => t + NEW_TEST);
  },
  'api-changed': async (repo) => {
    const rename = (t: string) => t.split('normalizeName').join('normaliseName');
    await edit(repo, 'src/greeting.ts', (t) => rename(t.replace(BUGGY, FIXED)));
    await edit(repo, 'test/greeting.test.ts', (t) => rename(t + NEW_TEST));
  },
  'not-fixed': async (repo) => {
    await edit(repo, 'test/greeting.test.ts', (t) => t + NEW_TEST);
  },
  'risky-file': async (repo) => {
    await edit(repo, 'src/greeting.ts', (t) => t.replace(BUGGY, FIXED));
    await edit(repo, 'test/greeting.test.ts', (t) => t + NEW_TEST);
    await edit(repo, 'src/server.ts', (t) => t.replace('const port = Number(process.env.PORT ?? 8080);', 'const port = Number(process.env.PORT ?? 8081);'));
  },
};

/** Builds the corpus repository in `dir` (must not exist or be empty). */
export async function createGreeterCorpus(dir: string, names: readonly CorpusName[] = [...KNOWN_GOOD, ...KNOWN_BAD]): Promise<GreeterCorpus> {
  const { repo, baseSha: rootSha } = await createDemoRepo(dir);
  await edit(repo, 'src/greeting.ts', (t) => t.replace(FIXED, BUGGY));
  const baseSha = await commit(repo, 'greeting: stop collapsing inner whitespace (introduces a bug)');
  const candidates = {} as Record<CorpusName, string>;
  for (const name of names) {
    await git(repo, ['checkout', '--quiet', '-B', `corpus/${name}`, baseSha]);
    await CANDIDATES[name](repo);
    candidates[name] = await commit(repo, `corpus: ${name}`);
  }
  await git(repo, ['checkout', '--quiet', 'main']);
  return { repo, rootSha, baseSha, candidates };
}
