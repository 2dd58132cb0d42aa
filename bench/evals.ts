/**
 * Eval harness throughput on the greeter corpus (real git work trees, real test runs):
 *   cold, concurrency 1   → scenarios/min
 *   cold, concurrency N   → scenarios/min and the parallel speed-up
 *   cached (same inputs)  → scenarios/min and the speed-up over cold
 *
 *   npx tsx bench/evals.ts [concurrency=2]
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createGreeterCorpus, CORPUS_PROTECTED_PATHS } from '../examples/corpus/greeter';
import { loadRegistry } from '../evals/registry';
import { runScenarios } from '../evals/runner';

async function main(): Promise<void> {
  const concurrency = Number(process.argv[2] ?? 2);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-bench-evals-'));
  try {
    const corpus = await createGreeterCorpus(path.join(tmp, 'repo'), ['good-fix']);
    const scenarios = (await loadRegistry()).latest();
    const opts = { repo: corpus.repo, candidate: corpus.candidates['good-fix'], base: corpus.baseSha, scenarios, workRoot: path.join(tmp, 'work'), protectedPaths: CORPUS_PROTECTED_PATHS };
    const perMin = (ms: number) => (scenarios.length / (ms / 60_000)).toFixed(1);
    const serial = await runScenarios({ ...opts, cacheDir: null, concurrency: 1 });
    const cacheDir = path.join(tmp, 'cache');
    const parallel = await runScenarios({ ...opts, cacheDir, concurrency });
    const cached = await runScenarios({ ...opts, cacheDir, concurrency });
    console.log(`${scenarios.length} scenarios, Eval Score ${(parallel.tuning.score * 100).toFixed(1)}% on ${os.cpus().length} CPU(s)`);
    console.log(`cold, concurrency 1:  ${serial.durationMs} ms  ${perMin(serial.durationMs)} scenarios/min`);
    console.log(`cold, concurrency ${concurrency}:  ${parallel.durationMs} ms  ${perMin(parallel.durationMs)} scenarios/min  speed-up ×${(serial.durationMs / parallel.durationMs).toFixed(2)}`);
    console.log(`cached:               ${cached.durationMs} ms  ${perMin(cached.durationMs)} scenarios/min  ×${(parallel.durationMs / cached.durationMs).toFixed(0)} faster than cold (hits ${cached.cache.hits}/${scenarios.length})`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

void main();
