/** `maestro graph …` (graphCommand) on a real repository in a temp dir, called directly. */
import { runGraph, twoCommitRepo, type TempRepo } from '../../../helpers/codegraph-fixture';

let repo: TempRepo;
let head: string;
beforeAll(() => {
  ({ repo, head } = twoCommitRepo());
});
afterAll(() => repo.remove());
const run = runGraph;

describe('maestro graph (memory store)', () => {
  it('ingest prints progress and the summary counts', async () => {
    const r = await run('ingest', repo.dir);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      `ingesting HEAD of ${repo.dir} into the memory store…`,
      '  parse: 7 files',
      '  write: 7 files',
      expect.stringMatching(new RegExp(`^ingested ${head.slice(0, 12)} \\(full\\): 7 source files, 7 parsed, 0 removed, 8 symbols in them, 1 unparseable in \\d+ ms$`)),
      '  skipped src/broken.ts: line 2: Variable declaration expected.',
      '  type checker: 1 call placed through an instance, in 6 files',
      '  tests from: tests by path (no jest or vitest config)',
      // handle's `new Store().get(k)` is the REFERENCES and CALLS edge the type checker adds
      'graph: 7 files, 8 symbols, 4 owners; edges: IMPORTS 7, DECLARES 8, REFERENCES 7, CALLS 7, OWNS 17',
    ]);
  });

  it('ingest --json gives the result and the graph counts', async () => {
    const r = await run('ingest', repo.dir, '--rev', head.slice(0, 10), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ mode: 'full', sha: head, totalFiles: 7, graph: { files: 7, symbols: 8, owners: 4, edges: { IMPORTS: 7, OWNS: 17 } } });
  });

  it('blast-radius lists affected files by distance, symbols, tests and owners', async () => {
    const r = await run('blast-radius', repo.dir, 'src/util.ts');
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      `blast radius of src/util.ts at ${head.slice(0, 12)}: 5 of 7 files (71.4%)`,
      'affected files (import distance):',
      '  1  src/db/index.ts',
      '  1  src/db/store.ts',
      '  1  src/service.ts',
      '  2  src/server.ts',
      '  2  test/service.test.ts',
      'touched symbols: src/util.ts#half, src/util.ts#third, src/util.ts#twice',
      'dependent symbols: src/db/store.ts#Store.get, src/service.ts#handle, src/service.ts#main',
      'tests to run: test/service.test.ts',
      '  (tests from tests by path (no jest or vitest config))',
      'owners: alice@example.com, @core, @data-team, bob@example.com',
    ]);
  });

  it('blast-radius takes several files, --depth, warns about unknown files and fails when none is known', async () => {
    const r = await run('blast-radius', repo.dir, './src/db/store.ts', 'README.md', '--depth', '1', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ changed: ['src/db/store.ts'], affectedFiles: [{ path: 'src/db/index.ts', distance: 1 }], unknown: ['README.md'] });
    const none = await run('blast-radius', repo.dir, 'nope.ts');
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/none of nope\.ts is a source file in the graph/);
  });

  it('dependents of a symbol by name', async () => {
    const r = await run('dependents', repo.dir, 'twice');
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      'src/util.ts#twice',
      '  referenced by files: src/db/store.ts, src/service.ts',
      '  called by: src/db/store.ts#Store.get, src/service.ts#handle',
      '  transitive callers: src/db/store.ts#Store.get, src/service.ts#handle, src/service.ts#main',
    ]);
    const missing = await run('dependents', repo.dir, 'nothing');
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/no symbol 'nothing'/);
  });

  it('owners of a file and of a directory', async () => {
    expect((await run('owners', repo.dir, 'src/util.ts')).lines).toEqual([
      'owners of src/util.ts:',
      '  @core (CODEOWNERS)  files 1  commits 0',
      '  alice@example.com  files 1  commits 1',
      '  bob@example.com  files 1  commits 1',
    ]);
    const dir = await run('owners', repo.dir, 'src/db', '--json');
    expect(JSON.parse(dir.out)).toEqual([
      { owner: 'alice@example.com', codeowner: true, files: 2, commits: 2 },
      { owner: '@data-team', codeowner: true, files: 2, commits: 0 },
    ]);
    expect((await run('owners', repo.dir, 'docs')).code).toBe(1);
  });

  it('hot-paths at file and symbol level, limited', async () => {
    const files = await run('hot-paths', repo.dir);
    expect(files.code).toBe(0);
    expect(files.lines).toEqual([
      `hot paths (file level) at ${head.slice(0, 12)}:`,
      expect.stringMatching(/^ {2}1\. \[\d\.\d{3}\] src\/server\.ts → src\/service\.ts → src\/util\.ts \(also entered from test\/service\.test\.ts\)$/),
    ]);
    const symbols = await run('hot-paths', repo.dir, '--level', 'symbol', '--limit', '1', '--json');
    expect(JSON.parse(symbols.out).map((p: { nodes: string[] }) => p.nodes)).toEqual([['src/service.ts#main', 'src/service.ts#handle', 'src/util.ts#twice']]);
  });

  it.each([
    [[], /missing command/],
    [['frobnicate', '/x'], /unknown command 'frobnicate'/],
    [['ingest'], /ingest needs <repo>/],
    [['owners', '/x'], /owners needs <repo> <path>/],
    [['dependents', '/x', 'a', 'b'], /got extra argument: b/],
    [['hot-paths', '/x', '--limit', '0'], /--limit must be a positive integer/],
    [['hot-paths', '/x', '--limit', 'ten'], /--limit must be a positive integer/],
    [['hot-paths', '/x', '--level', 'module'], /--level must be file or symbol/],
    [['ingest', '/x', '--store', 'redis'], /--store must be memory or neo4j/],
    [['ingest', '/x', '--level', 'file'], /ingest does not take --level/],
    [['ingest', '/x', '--bogus'], /Unknown option '--bogus'/],
    [['ingest', '/x', '--rev'], /--rev/],
  ])('rejects bad usage %j with exit code 2 and a clear message', async (argv, message) => {
    const r = await run(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.lines[0]).toMatch(message);
    expect(r.out).toContain('usage: maestro graph <command>');
  });

  it('--help prints the usage', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe('usage: maestro graph <command> [options]');
  });

  it('fails with exit code 1 and git’s reason for a directory that is not a repository or a bad revision', async () => {
    const notRepo = await run('ingest', '/', '--json');
    expect(notRepo.code).toBe(1);
    expect(notRepo.out).toMatch(/^maestro graph: cannot read HEAD in \/: .*not a git repository/);
    const badRev = await run('hot-paths', repo.dir, '--rev', 'no-such-branch');
    expect(badRev.code).toBe(1);
    expect(badRev.out).toMatch(/cannot read no-such-branch/);
  });
});
