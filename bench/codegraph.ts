/**
 * Code-graph bench: a generated repository of N TypeScript files (default 1,200), ingested
 *   - in memory and into Neo4j (batched UNWIND … MERGE), files/s;
 *   - into Neo4j one MERGE per row, side by side with batched (target ≥ 10× slower);
 *   - incrementally after a one-file change, against the full ingest (target < 5%).
 * Every measured full ingest writes into an empty graph (clearing is outside the timing); times are
 * medians of REPEAT runs after a warm-up (a full ingest and an incremental one, so JIT and query
 * plans of both paths are warm), each incremental right after its full ingest.
 * Run: npx tsx bench/codegraph.ts [files]   (starts or reuses the embedded Neo4j)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeCentrality, GraphIndex } from '../codegraph/analysis';
import { ingestRepo } from '../codegraph/ingest';
import { MemoryGraphStore } from '../codegraph/memory-store';
import { Neo4jGraphStore } from '../codegraph/neo4j-store';
import type { IngestResult } from '../codegraph/ingest';

import { ensureNeo4j } from '../infra/neo4j/server';

const N = Number(process.argv[2] ?? 1200);

function generate(dir: string, n: number): void {
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', ...a]);
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'CODEOWNERS'), '*.ts @platform\nsrc/m0*/ @core\n');
  for (let i = 0; i < n; i++) {
    const d = path.join(dir, 'src', `m${i % 25}`);
    fs.mkdirSync(d, { recursive: true });
    const deps = i === 0 ? [] : [...new Set([Math.floor(i / 2), Math.floor(i / 3), (i * 7) % i, 0].filter((j) => j < i))];
    const rel = (j: number) => {
      const r = path.posix.relative(`src/m${i % 25}`, `src/m${j % 25}/f${j}`);
      return r.startsWith('.') ? r : `./${r}`;
    };
    const lines = deps.map((j) => `import { fn${j}, C${j} } from '${rel(j)}';`);
    lines.push(`export function fn${i}(x: number): number {`, `  return x + ${deps.map((j) => `fn${j}(x - 1)`).join(' + ') || '1'};`, '}');
    lines.push(`export class C${i} {`, `  run(x: number) { return this.step(x) + fn${i}(x); }`, `  step(x: number) { return ${deps.length ? `new C${deps[0]}().run(x)` : 'x'}; }`, '}');
    for (let k = 0; k < 20; k++) lines.push(`// filler line ${k} to give the file a realistic size`);
    fs.writeFileSync(path.join(d, `f${i}.ts`), lines.join('\n') + '\n');
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'generated');
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const REPEAT = 5;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-bench-graph-'));
  generate(dir, N);
  const head = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  // The one-file change: a body edit in a mid-graph file (exports unchanged).
  const target = path.join(dir, 'src', `m${500 % 25}`, 'f500.ts');
  fs.writeFileSync(target, fs.readFileSync(target, 'utf8').replace('filler line 3', 'edited line 3'));
  execFileSync('git', ['-C', dir, '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', 'commit', '-qam', 'one file']);
  const next = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();

  const rows: string[] = [];
  const report = (name: string, ms: number, files: number) => rows.push(`| ${name} | ${files} | ${ms.toFixed(0)} ms | ${((files / ms) * 1000).toFixed(0)} files/s |`);

  // In memory: full ingest and incremental re-ingest after the one-file change, median of REPEAT (after a warm-up).
  const memory = new MemoryGraphStore();
  await ingestRepo(memory, dir, head, { mode: 'full' }); // warm-up (JIT)
  await ingestRepo(memory, dir, next);
  const memFull: number[] = [];
  const memInc: number[] = [];
  let full!: IngestResult;
  let inc!: IngestResult;
  for (let i = 0; i < REPEAT; i++) {
    const [f, fMs] = await time(() => ingestRepo(memory, dir, head, { mode: 'full' }));
    const [n, nMs] = await time(() => ingestRepo(memory, dir, next));
    if (n.mode !== 'incremental' || n.filesParsed !== 1) throw new Error(`expected an incremental ingest of one file, got ${JSON.stringify(n)}`);
    [full, inc] = [f, n];
    memFull.push(fMs);
    memInc.push(nMs);
  }
  const memMs = median(memFull);
  const memIncMs = median(memInc);
  report('full ingest, in memory', memMs, full.totalFiles);
  report(`incremental (1 file changed, ${inc.filesParsed} parsed), in memory`, memIncMs, inc.filesParsed);
  const [index, snapMs] = await time(async () => new GraphIndex(await memory.snapshot()));
  const [, centralityMs] = await time(async () => computeCentrality(index));

  const neo = await ensureNeo4j();
  const stores: Neo4jGraphStore[] = [];
  let graphs = 0;
  /** A new, empty graph: every measured full ingest writes into an empty store, so runs are like for like. */
  const neoStore = async (writeMode: 'batched' | 'per-row') => {
    const s = new Neo4jGraphStore({ uri: neo.uri, graph: `bench-${writeMode}-${process.pid}-${graphs++}`, writeMode });
    stores.push(s);
    await s.init();
    await s.clear();
    return s;
  };
  const warm = await neoStore('batched');
  await ingestRepo(warm, dir, head, { mode: 'full' }); // warm-up (JIT, query plans, page cache)
  await ingestRepo(warm, dir, next);
  await warm.clear();

  // Batch size sweep (files per transaction), write phase only.
  const sweep: string[] = [];
  for (const batch of [250, 500, 1000, 2000]) {
    const s = await neoStore('batched');
    const r = await ingestRepo(s, dir, head, { mode: 'full', writeBatch: batch });
    sweep.push(`${batch}: ${r.ms.write} ms`);
    await s.clear();
  }

  const batchedWrites: number[] = [];
  const batchedTotals: number[] = [];
  const neoInc: number[] = [];
  let nInc!: IngestResult;
  for (let i = 0; i < REPEAT; i++) {
    const batched = await neoStore('batched');
    const [nFull, neoMs] = await time(() => ingestRepo(batched, dir, head, { mode: 'full' }));
    batchedWrites.push(nFull.ms.write);
    batchedTotals.push(neoMs);
    const [r, incMs] = await time(() => ingestRepo(batched, dir, next));
    if (r.mode !== 'incremental' || r.filesParsed !== 1) throw new Error(`expected an incremental ingest of one file, got ${JSON.stringify(r)}`);
    nInc = r;
    neoInc.push(incMs);
    await batched.clear();
  }
  const neoMs = median(batchedTotals);
  const neoIncMs = median(neoInc);
  report('full ingest, Neo4j batched UNWIND … MERGE', neoMs, full.totalFiles);
  report(`incremental (1 file changed, ${nInc.filesParsed} parsed), Neo4j`, neoIncMs, nInc.filesParsed);
  const perRow = await neoStore('per-row');
  const [pFull, perRowMs] = await time(() => ingestRepo(perRow, dir, head, { mode: 'full' }));
  report('full ingest, Neo4j one MERGE per row', perRowMs, pFull.totalFiles);

  const s = await memory.snapshot();
  console.log(`\nRepository: ${N} TS files, ${s.symbols.length} symbols, ${s.edges.length} code edges, ${s.owns.length} OWNS edges\n`);
  console.log('| run | files | time | throughput |\n|---|---|---|---|');
  for (const r of rows) console.log(r);
  const writeBatched = median(batchedWrites);
  const writePerRow = pFull.ms.write;
  console.log(`\nNeo4j write phase into an empty graph (clear outside the timing): batched ${writeBatched} ms vs per-row ${writePerRow} ms → ${(writePerRow / writeBatched).toFixed(1)}× (whole ingest ${(perRowMs / neoMs).toFixed(1)}×)`);
  console.log(`Batch size sweep (files per transaction → write phase): ${sweep.join(', ')}`);
  const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`Incremental / full (median of ${REPEAT}; target < 5%): in memory ${memIncMs.toFixed(0)}/${memMs.toFixed(0)} ms = ${((memIncMs / memMs) * 100).toFixed(2)}%, Neo4j ${neoIncMs.toFixed(0)}/${neoMs.toFixed(0)} ms = ${((neoIncMs / neoMs) * 100).toFixed(2)}%`);
  console.log(`  runs (ms): in memory full [${runs(memFull)}] incremental [${runs(memInc)}]; Neo4j full [${runs(batchedTotals)}] incremental [${runs(neoInc)}]`);
  console.log(`Incremental phases (ms): in memory ${JSON.stringify(inc.ms)}, Neo4j ${JSON.stringify(nInc.ms)}`);
  console.log(`Analysis: snapshot+index ${snapMs.toFixed(0)} ms, centrality (PageRank + betweenness, files and symbols) ${centralityMs.toFixed(0)} ms`);
  console.log(`Phases of the in-memory full ingest (ms): ${JSON.stringify(full.ms)}`);
  for (const st of stores) {
    await st.clear();
    await st.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
