/**
 * The code graph on the two real libraries of bench/libs (immer, superjson; see bench/lib/real-libs.ts):
 *  - full ingest time, the parser alone (`semantic: false`) beside the parser plus the type checker
 *    (medians of REPEAT runs after a warm-up), with the checker's share;
 *  - the 10 most central files beside the 10 files most imported by value;
 *  - the most depended-upon methods: callers and referencing files, parser alone beside with the checker;
 *  - the tests the graph would run (from the library's test config) and where that config came from.
 * Run: npx tsx bench/codegraph-real.ts [immer|superjson]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeCentrality, GraphIndex } from '../codegraph/analysis';
import { ingestRepo, type IngestResult } from '../codegraph/ingest';
import { MemoryGraphStore } from '../codegraph/memory-store';
import { forgetProgram } from '../codegraph/semantic';
import { prepareLib, REAL_LIBS, type RealLib } from './lib/real-libs';

const WORK = path.join(os.tmpdir(), 'maestro-bench-graph-real');
const REPEAT = 3;
const only = process.argv[2];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall and CPU (user + system) time: on a shared machine the CPU time is the steadier figure. */
async function ingestTimes(dir: string, head: string, semantic: boolean): Promise<{ ms: number; cpuMs: number; index: GraphIndex; result: IngestResult }> {
  const times: number[] = [];
  const cpu: number[] = [];
  let last: { index: GraphIndex; result: IngestResult } | undefined;
  for (let i = 0; i <= REPEAT; i++) {
    forgetProgram(dir); // every run builds its program from nothing, as a first ingest does
    const store = new MemoryGraphStore();
    const t = performance.now();
    const c = process.cpuUsage();
    const result = await ingestRepo(store, dir, head, { mode: 'full', semantic });
    const used = process.cpuUsage(c);
    if (i > 0) {
      // run 0 warms up
      times.push(performance.now() - t);
      cpu.push((used.user + used.system) / 1000);
    }
    last = { index: new GraphIndex(await store.snapshot()), result };
  }
  return { ms: Math.round(median(times)), cpuMs: Math.round(median(cpu)), ...last! };
}

function methodDependents(index: GraphIndex): Map<string, { callers: number; files: number }> {
  const out = new Map<string, { callers: number; files: number }>();
  for (const s of index.symbols.values())
    if (s.kind === 'method') out.set(s.id, { callers: index.callers.get(s.id)?.size ?? 0, files: index.referencedBy.get(s.id)?.size ?? 0 });
  return out;
}

async function benchLib(lib: RealLib): Promise<void> {
  const dir = prepareLib(lib, WORK);
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  const syntactic = await ingestTimes(dir, head, false);
  const semantic = await ingestTimes(dir, head, true);
  const s = semantic.result.semantic;
  console.log(`\n## ${lib.name}: ${semantic.result.totalFiles} source files, ${semantic.result.symbols} symbols`);
  console.log(
    `full ingest (median of ${REPEAT}, wall / CPU): parser alone ${syntactic.ms} / ${syntactic.cpuMs} ms, with the type checker ${semantic.ms} / ${semantic.cpuMs} ms (program ${s.ms} ms; ${s.resolvedCalls} calls placed by the checker)`,
  );
  // An incremental ingest of a one-file change on the kept program (the common case in a worker).
  const store = new MemoryGraphStore();
  await ingestRepo(store, dir, head, { mode: 'full' });
  const file = semantic.index.snapshot.files.filter((f) => !f.isTest && f.parsed).map((f) => f.path).sort()[0]!;
  const touch = async (label: string, options: { semantic?: boolean }, forget = false) => {
    fs.appendFileSync(path.join(dir, file), '\n// touched by the bench\n');
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-qam', 'touch'], { cwd: dir });
    const next = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    if (forget) forgetProgram(dir);
    const t = performance.now();
    const inc = await ingestRepo(store, dir, next, options);
    return `${label} ${Math.round(performance.now() - t)} ms (${inc.mode}, ${inc.filesParsed} parsed)`;
  };
  const figures = [await touch('parser alone', { semantic: false }), await touch('with the checker, kept program', {}), await touch('with the checker, no kept program (a new process)', {}, true)];
  console.log(`incremental ingest of a one-file change (${file}): ${figures.join('; ')}`);
  if (s.configProblem) console.log(`tsconfig: ${s.configProblem}`);
  const index = semantic.index;
  const central = [...computeCentrality(index).files.values()].sort((a, b) => b.pageRank - a.pageRank || a.id.localeCompare(b.id)).slice(0, 10);
  const byValue = new Map<string, number>();
  const byType = new Map<string, number>();
  for (const e of index.snapshot.edges) {
    if (e.type === 'IMPORTS') byValue.set(e.to, (byValue.get(e.to) ?? 0) + 1);
    if (e.type === 'IMPORTS_TYPE') byType.set(e.to, (byType.get(e.to) ?? 0) + 1);
  }
  const imported = [...byValue].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
  console.log(`import edges: ${[...byValue.values()].reduce((a, b) => a + b, 0)} by value, ${[...byType.values()].reduce((a, b) => a + b, 0)} type-only`);
  console.log('| rank | central file (pageRank) | imported by value (importers; type-only importers) |\n|---|---|---|');
  for (let i = 0; i < 10; i++) {
    const c = central[i];
    const m = imported[i];
    console.log(`| ${i + 1} | ${c ? `${c.id} (${c.pageRank.toFixed(3)})` : '-'} | ${m ? `${m[0]} (${m[1]}; ${byType.get(m[0]) ?? 0})` : '-'} |`);
  }
  const before = methodDependents(syntactic.index);
  const after = methodDependents(index);
  const top = [...after].sort((a, b) => b[1].callers + b[1].files - a[1].callers - a[1].files || a[0].localeCompare(b[0])).slice(0, 5);
  console.log('| method | callers (parser alone → with checker) | referencing files (parser alone → with checker) |\n|---|---|---|');
  for (const [id, a] of top) {
    const b = before.get(id) ?? { callers: 0, files: 0 };
    console.log(`| ${id} | ${b.callers} → ${a.callers} | ${b.files} → ${a.files} |`);
  }
  const tests = [...index.testFiles].sort();
  console.log(`tests (${semantic.result.testConfig ?? 'no test config'}): ${tests.length}: ${tests.join(', ')}`);
}

(async () => {
  for (const lib of REAL_LIBS) if (!only || only === lib.name) await benchLib(lib);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
