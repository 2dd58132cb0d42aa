/**
 * `maestro graph …`: the code graph for people at a terminal.
 *
 *   ingest <repo> [--rev R] [--store memory|neo4j]              ingest a commit, print progress and counts
 *   blast-radius <repo> <file…> [--rev R] [--store …] [--depth N] what a change to these files can break
 *   dependents <repo> <symbol> [--rev R] [--store …]            who references / calls a symbol
 *   owners <repo> <path> [--rev R] [--store …]                   owners of a file or directory
 *   hot-paths <repo> [--level file|symbol] [--limit N] [--rev R] [--store …]
 *
 * Every command takes `--json` (machine-readable output). The in-memory store is rebuilt per call (it
 * lives in this process); the Neo4j store keeps the graph, so a query after an ingest only re-reads
 * what changed. Neo4j: MAESTRO_NEO4J_URI, else the embedded server (reused or started by ensureNeo4j()).
 * Exit codes: 0 done, 1 failed (bad repository, revision, Neo4j down, nothing found), 2 bad usage.
 */
import path from 'node:path';
import { z } from 'zod';
import type { CodeGraphStore } from '../../core/codegraph';
import { blastRadius, computeCentrality, dependentsOf, findSymbols, GraphIndex, hotPaths, ownersOfPath } from '../../codegraph/analysis';
import { GitError } from '../../io/git';
import { ingestRepo, type IngestResult } from '../../codegraph/ingest';
import { MemoryGraphStore } from '../../codegraph/memory-store';
import { defineCommand, UsageError, type Args } from '../command';

const USAGE = `usage: maestro graph <command> [options]

commands:
  ingest <repo>                 ingest a commit into the graph (incremental when the store holds an ancestor)
  blast-radius <repo> <file…>   files, symbols, tests and owners a change to these files can affect
  dependents <repo> <symbol>    files referencing and symbols calling a symbol ('path#name' or a name)
  owners <repo> <path>          owners of a file or of every file under a directory
  hot-paths <repo>              the most central dependency chains

options:
  --rev R                       commit to read (default HEAD)
  --store memory|neo4j          graph store (default memory; neo4j: MAESTRO_NEO4J_URI or the embedded server)
  --level file|symbol           hot-paths: chains of files (IMPORTS) or symbols (CALLS) (default file)
  --limit N                     hot-paths: how many chains (default 5)
  --depth N                     blast-radius: how many import hops to follow (default: all)
  --full                        ingest: re-ingest everything even when an incremental ingest is possible
  --json                        print JSON instead of text`;

const COMMANDS = ['ingest', 'blast-radius', 'dependents', 'owners', 'hot-paths'] as const;
type Subcommand = (typeof COMMANDS)[number];

const OPTIONS = {
  rev: { type: 'string' },
  store: { type: 'string' },
  level: { type: 'string' },
  limit: { type: 'string' },
  depth: { type: 'string' },
  full: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** Which options each command accepts (the rest are rejected, not ignored). */
const ALLOWED: Record<Subcommand, readonly (keyof typeof OPTIONS)[]> = {
  ingest: ['rev', 'store', 'full', 'json'],
  'blast-radius': ['rev', 'store', 'depth', 'json'],
  dependents: ['rev', 'store', 'json'],
  owners: ['rev', 'store', 'json'],
  'hot-paths': ['rev', 'store', 'level', 'limit', 'json'],
};

/** Positionals after the command: [min, max] and their names for messages. */
const POSITIONALS: Record<Subcommand, { min: number; max: number; names: string }> = {
  ingest: { min: 1, max: 1, names: '<repo>' },
  'blast-radius': { min: 2, max: Infinity, names: '<repo> <file…>' },
  dependents: { min: 2, max: 2, names: '<repo> <symbol>' },
  owners: { min: 2, max: 2, names: '<repo> <path>' },
  'hot-paths': { min: 1, max: 1, names: '<repo>' },
};

const positiveInt = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `--${name} must be a positive integer`)
    .transform(Number)
    .refine((n) => n >= 1, `--${name} must be a positive integer`);

const optionsSchema = z.object({
  rev: z.string().min(1, '--rev must not be empty').default('HEAD'),
  store: z.enum(['memory', 'neo4j'], { errorMap: () => ({ message: '--store must be memory or neo4j' }) }).default('memory'),
  level: z.enum(['file', 'symbol'], { errorMap: () => ({ message: '--level must be file or symbol' }) }).default('file'),
  limit: positiveInt('limit').default('5'),
  depth: positiveInt('depth').optional(),
  full: z.boolean().default(false),
  json: z.boolean().default(false),
});
type Options = z.output<typeof optionsSchema>;

function parse({ values, positionals }: Args<typeof OPTIONS>): { command: Subcommand; args: string[]; options: Options } {
  const [command, ...args] = positionals;
  if (command === undefined) throw new UsageError('missing command');
  if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`unknown command '${command}' (expected one of ${COMMANDS.join(', ')})`);
  const cmd = command as Subcommand;
  for (const key of Object.keys(values) as (keyof typeof OPTIONS)[]) {
    if (!ALLOWED[cmd].includes(key)) throw new UsageError(`${cmd} does not take --${key}`);
  }
  const { min, max, names } = POSITIONALS[cmd];
  if (args.length < min) throw new UsageError(`${cmd} needs ${names}`);
  if (args.length > max) throw new UsageError(`${cmd} takes ${names}, got extra argument${args.length - max > 1 ? 's' : ''}: ${args.slice(max).join(' ')}`);
  if (args.some((a) => a.trim() === '')) throw new UsageError(`${cmd}: arguments must not be empty`);
  const result = optionsSchema.safeParse(values);
  if (!result.success) throw new UsageError(result.error.issues.map((i) => i.message).join('; '));
  return { command: cmd, args, options: result.data };
}

/** Neo4j (and its driver) is loaded only when asked for: the memory store needs nothing beyond this process. */
async function openStore(kind: 'memory' | 'neo4j', repo: string): Promise<CodeGraphStore> {
  if (kind === 'memory') return new MemoryGraphStore();
  let uri = process.env.MAESTRO_NEO4J_URI;
  if (!uri) {
    const { ensureNeo4j } = await import('../../infra/neo4j/server');
    uri = (await ensureNeo4j()).uri;
  }
  const [{ Neo4jGraphStore }, { graphNameFor }] = await Promise.all([import('../../codegraph/neo4j-store'), import('../../codegraph/service')]);
  const store = new Neo4jGraphStore({ uri, graph: graphNameFor(repo) });
  await store.init();
  return store;
}

const short = (sha: string) => sha.slice(0, 12);

function ingestSummary(r: IngestResult): string {
  const from = r.fromSha && r.fromSha !== r.sha ? ` from ${short(r.fromSha)}` : '';
  return `ingested ${short(r.sha)} (${r.mode}${from}): ${r.totalFiles} source files, ${r.filesParsed} parsed, ${r.filesRemoved} removed, ${r.symbols} symbols in them, ${r.unparsed.length} unparseable in ${r.ms.total} ms`;
}

export const command = defineCommand({
  name: 'graph',
  usage: USAGE,
  options: OPTIONS,
  async run(parsedArgs, io) {
    const { command, args, options } = parse(parsedArgs);
    const print = io.print;
    const repo = path.resolve(args[0]!);
    let store: CodeGraphStore | undefined;
    try {
      store = await openStore(options.store, repo);
      const progress = command === 'ingest' && !options.json;
      if (progress) print(`ingesting ${options.rev} of ${repo} into the ${options.store} store…`);
      const ingest = await ingestRepo(store, repo, options.rev, {
        mode: options.full ? 'full' : 'auto',
        onProgress: progress ? (d) => print(`  ${String(d.phase)}: ${String(d.files)} files`) : undefined,
      });
      const snapshot = await store.snapshot();
      const index = new GraphIndex(snapshot);
      const out = (value: unknown, text: () => string[]) => {
        if (options.json) print(JSON.stringify(value, null, 2));
        else for (const l of text()) print(l);
      };
      switch (command) {
        case 'ingest': {
          const edges: Record<string, number> = { IMPORTS: 0, DECLARES: 0, REFERENCES: 0, CALLS: 0, OWNS: snapshot.owns.length };
          for (const e of snapshot.edges) edges[e.type] = (edges[e.type] ?? 0) + 1;
          const counts = { files: snapshot.files.length, symbols: snapshot.symbols.length, owners: snapshot.owners.length, edges };
          out({ ...ingest, graph: counts }, () => [
            ingestSummary(ingest),
            ...ingest.unparsed.map((u) => `  skipped ${u.path}: ${u.error}`),
            ingest.semantic.skipped
              ? `  type checker: not run (${ingest.semantic.skipped})`
              : `  type checker: ${ingest.semantic.resolvedCalls} call${ingest.semantic.resolvedCalls === 1 ? '' : 's'} placed through an instance, in ${ingest.semantic.files} files${ingest.semantic.configProblem ? `; ${ingest.semantic.configProblem} (default options used)` : ''}`,
            ...(ingest.testConfig ? [`  tests from: ${ingest.testConfig}`] : []),
            `graph: ${counts.files} files, ${counts.symbols} symbols, ${counts.owners} owners; edges: ${Object.entries(edges).map(([k, v]) => `${k} ${v}`).join(', ')}`,
          ]);
          return 0;
        }
        case 'blast-radius': {
          const files = args.slice(1).map((f) => f.replace(/^\.\//, ''));
          const unknown = files.filter((f) => !index.files.has(f));
          const known = files.filter((f) => index.files.has(f));
          if (known.length === 0) {
            print(`maestro graph: none of ${files.join(', ')} is a source file in the graph at ${short(ingest.sha)}`);
            return 1;
          }
          const br = blastRadius(index, known, options.depth ?? Infinity);
          out({ ...br, unknown }, () => [
            ...unknown.map((f) => `warning: ${f} is not a source file in the graph; ignored`),
            `blast radius of ${br.changed.join(', ')} at ${short(ingest.sha)}: ${br.affectedFiles.length} of ${index.files.size} files (${(br.share * 100).toFixed(1)}%)`,
            'affected files (import distance):',
            ...(br.affectedFiles.length ? br.affectedFiles.map((a) => `  ${a.distance}  ${a.path}`) : ['  (none)']),
            `touched symbols: ${br.touchedSymbols.join(', ') || '(none)'}`,
            `dependent symbols: ${br.dependentSymbols.join(', ') || '(none)'}`,
            `tests to run: ${br.testsToRun.join(', ') || '(none)'}`,
            ...(br.testsFrom ? [`  (tests from ${br.testsFrom})`] : []),
            `owners: ${br.owners.join(', ') || '(none)'}`,
          ]);
          return 0;
        }
        case 'dependents': {
          const ids = findSymbols(index, args[1]!);
          if (ids.length === 0) {
            print(`maestro graph: no symbol '${args[1]}' in the graph at ${short(ingest.sha)} (give 'path#name' or an exported function, class or method name)`);
            return 1;
          }
          const deps = ids.map((id) => dependentsOf(index, id));
          out(deps, () =>
            deps.flatMap((d) => [
              `${d.symbol}`,
              `  referenced by files: ${d.referencingFiles.join(', ') || '(none)'}`,
              `  called by: ${d.callers.join(', ') || '(none)'}`,
              `  transitive callers: ${d.transitiveCallers.join(', ') || '(none)'}`,
            ]),
          );
          return 0;
        }
        case 'owners': {
          const target = args[1]!.replace(/^\.\//, '');
          const owners = ownersOfPath(index, target);
          if (owners.length === 0) {
            print(`maestro graph: no owners for '${target}' at ${short(ingest.sha)} (no such source file or directory, or nobody owns it)`);
            return 1;
          }
          out(owners, () => [`owners of ${target}:`, ...owners.map((o) => `  ${o.owner}${o.codeowner ? ' (CODEOWNERS)' : ''}  files ${o.files}  commits ${o.commits}`)]);
          return 0;
        }
        case 'hot-paths': {
          const paths = hotPaths(index, computeCentrality(index), { level: options.level, limit: options.limit });
          out(paths, () => [
            `hot paths (${options.level} level) at ${short(ingest.sha)}:`,
            ...(paths.length
              ? paths.map((p, i) => `  ${i + 1}. [${p.score.toFixed(3)}] ${p.nodes.join(' → ')}${p.otherEntries ? ` (also entered from ${p.otherEntries.join(', ')})` : ''}`)
              : ['  (none: no dependency chains)']),
          ]);
          return 0;
        }
        default:
          print(`maestro graph: unknown command ${command as string}`);
          return 2;
      }
    } catch (err) {
      if (err instanceof GitError) print(`maestro graph: cannot read ${options.rev} in ${repo}: ${err.stderr.trim() || err.message}`);
      else print(`maestro graph: ${(err as Error).message ?? String(err)}`);
      return 1;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
