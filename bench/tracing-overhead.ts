/**
 * Tracing overhead on a whole train: the greeter's good change released on a dev server of its own, with
 * tracing off and on (OTLP to Jaeger, started by infra/jaeger if none answers), in alternating rounds of
 * one stack each so that load drifts hit both arms alike. Prints each train's time, the medians side by
 * side and the spans the traced trains left in Jaeger.
 *
 *   npx tsx bench/tracing-overhead.ts [trains per round, default 2] [rounds, default 2]
 * Ports: Temporal BENCH_TRACING_PORT (default 7350, UI +1), Jaeger MAESTRO_JAEGER_OTLP_PORT / MAESTRO_JAEGER_QUERY_PORT.
 */
import { median } from 'simple-statistics';
import { TrainFixture } from '../examples/train-fixture';
import { defaultJaeger, ensureJaeger, stopJaeger } from '../infra/jaeger/server';
import { maestroTracer, startTracing, traceIdOf } from '../io/tracing';
import type { releaseTrain } from '../workflows/release-train';
import { withOwnStack } from './own-stack';

const PER_ROUND = Number(process.argv[2] ?? 2);
const ROUNDS = Number(process.argv[3] ?? 2);
const PORT = Number(process.env.BENCH_TRACING_PORT ?? 7350);
const RUN = Date.now().toString(36);

interface Timed {
  arm: 'off' | 'on';
  ms: number;
  spans?: number;
}

async function trainsOnOwnStack(arm: Timed['arm'], round: number, queryUrl: string): Promise<Timed[]> {
  const queue = `bench-tracing-${arm}-${round}`;
  return withOwnStack({ port: PORT, uiPort: PORT + 1, queue }, async ({ client, stateDir }) => {
    const out: Timed[] = [];
    for (let i = 0; i < PER_ROUND; i++) {
      // A service of its own per train: the good change applies to the initial greeter only.
      const fixture = new TrainFixture(`bench-trace-${arm}-${round}-${i}-${RUN}`, stateDir);
      await fixture.start(50);
      try {
        const cr = fixture.change('good-change', `bench-trace-${arm}-${round}-${i}-${RUN}`);
        const started = performance.now();
        // As the CLI starts a train (cli/release.ts startTrain): a root span, the workflow started inside it.
        const { result, traceId } = await maestroTracer().startActiveSpan(`release train ${cr.id}`, async (span) => {
          try {
            const handle = await client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: queue, workflowId: `train-${cr.id}`, args: [cr] });
            return { result: await handle.result(), traceId: traceIdOf(span) };
          } finally {
            span.end();
          }
        });
        const ms = performance.now() - started;
        if (result.outcome !== 'promoted') throw new Error(`${cr.id}: expected promoted, got ${result.outcome} (${result.reason})`);
        const spans = traceId ? await spanCount(queryUrl, traceId) : undefined;
        console.log(`  round ${round} tracing ${arm}: ${cr.id} promoted in ${(ms / 1000).toFixed(2)} s${spans !== undefined ? `, ${spans} spans in Jaeger` : ''}`);
        out.push({ arm, ms, ...(spans !== undefined ? { spans } : {}) });
      } finally {
        await fixture.stop();
      }
    }
    return out;
  });
}

/** The spans of a trace once the exporters have flushed (waits up to 15 s for the count to settle). */
async function spanCount(queryUrl: string, traceId: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
    const n = res.ok ? ((await res.json()) as { data: { spans: unknown[] }[] }).data.reduce((s, t) => s + t.spans.length, 0) : 0;
    if (n > 0 && n === last) return n;
    last = n;
  }
  return last;
}

async function main(): Promise<void> {
  const jaeger = await ensureJaeger();
  const results: Timed[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      results.push(...(await trainsOnOwnStack('off', round, jaeger.queryUrl)));
      // Tracing is per process: on for this round's traced stack (its worker and client), off again after.
      const tracing = await startTracing({ endpoint: jaeger.otlpEndpoint, serviceName: 'maestro-bench' });
      try {
        results.push(...(await trainsOnOwnStack('on', round, jaeger.queryUrl)));
      } finally {
        await tracing.shutdown();
      }
    }
  } finally {
    if (!jaeger.reused) await stopJaeger(defaultJaeger);
  }
  const arm = (a: Timed['arm']) => results.filter((r) => r.arm === a).map((r) => r.ms / 1000);
  const [off, on] = [arm('off'), arm('on')];
  const spans = results.filter((r) => r.spans !== undefined).map((r) => r.spans!);
  console.log(`\ntracing overhead on a train (greeter good change, FAST_PLAN gates, ${ROUNDS} rounds × ${PER_ROUND} trains per arm, alternating):`);
  console.log(`  tracing off: median ${median(off).toFixed(2)} s  (${off.map((s) => s.toFixed(2)).join(', ')})`);
  console.log(`  tracing on:  median ${median(on).toFixed(2)} s  (${on.map((s) => s.toFixed(2)).join(', ')}); spans per train ${spans.join(', ')}`);
  console.log(`  difference of medians: ${(median(on) - median(off)).toFixed(2)} s (${(((median(on) - median(off)) / median(off)) * 100).toFixed(1)}%)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
