/**
 * The statistical judge on Prometheus: a real Prometheus (the Debian package, started by infra/prometheus)
 * scrapes a real weighted proxy; the gate's figures come through PrometheusHealthSource, latency as the
 * proxy's histogram buckets. A canary as fast as stable passes on the judge; one three times slower fails
 * on latency, the evidence naming the buckets.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { accumulateWindow, emptyWindow, judgeWindow, looksPerGate, statisticalJudgeSchema, type GateWindow, type WindowVerdict } from '../../../core/judge';
import { PrometheusHealthSource } from '../../../delivery/prometheus-health';
import { DURATION_BUCKETS, WeightedProxy } from '../../../delivery/proxy';
import { rng } from '../../../evals/perturbations';
import { ensurePrometheus, type RunningPrometheus } from '../../../infra/prometheus/server';
import { tempDir } from '../../helpers/temporal';

const PROMETHEUS_PORT = Number(process.env.MAESTRO_TEST_PROMETHEUS_JUDGE_PORT ?? 7212);
const RUN = Date.now().toString(36);
const targetsDir = tempDir('prometheus-judge-targets');
const PROBE_INTERVAL_MS = 2_000;
const judge = statisticalJudgeSchema.parse({ maxSoakMs: 90_000 });
const looks = looksPerGate(judge, PROBE_INTERVAL_MS);
let prometheus: RunningPrometheus;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  prometheus = await ensurePrometheus({ baseDir: tempDir('prometheus-judge'), port: PROMETHEUS_PORT, targetsDir, scrapeIntervalMs: 1000, binary: '/usr/bin/prometheus' });
}, 60_000);

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((stop) => stop()));
});

afterAll(async () => {
  await prometheus?.stop();
});

/** A version that answers after a log-normal delay (median 20 ms × slowdown, log-sd 0.25). */
async function version(seed: number, slowdown: number): Promise<string> {
  const next = rng(seed);
  const server = http.createServer((_req, res) => {
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    setTimeout(() => res.end('hello'), 20 * slowdown * Math.exp(0.25 * z));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Stable and canary behind a real proxy at 50%, listed for Prometheus, under steady traffic until the test ends. */
async function service(name: string, canarySlowdown: number) {
  const stable = await version(1, 1);
  const canary = await version(2, canarySlowdown);
  const proxy = new WeightedProxy({ stable, canary, weight: 50 });
  const state = await proxy.start();
  fs.writeFileSync(path.join(targetsDir, `${name}.json`), JSON.stringify([{ targets: [new URL(state.adminUrl).host], labels: { service: name, component: 'proxy' } }]));
  let running = true;
  const clients = Array.from({ length: 6 }, async () => {
    while (running) await fetch(`${state.publicUrl}/greet`).then((r) => r.arrayBuffer()).catch(() => undefined);
  });
  cleanups.push(async () => {
    running = false;
    await Promise.all(clients);
    await proxy.stop();
    fs.rmSync(path.join(targetsDir, `${name}.json`), { force: true });
  });
  const source = new PrometheusHealthSource({ url: prometheus.url, routes: async () => ({ stable, canary, weight: 50 }) });
  return { source, stable, canary };
}

/** Probes every PROBE_INTERVAL_MS, as a judged gate does, until the judge decides or the soak limit. */
async function gate(name: string, source: PrometheusHealthSource): Promise<{ verdict: WindowVerdict; window: GateWindow; probes: number; ms: number }> {
  const started = Date.now();
  let window = emptyWindow();
  for (let probes = 1; ; probes++) {
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    window = accumulateWindow(window, await source.probe({ service: name }));
    const verdict = judgeWindow(window, judge, looks);
    if (verdict.outcome !== 'inconclusive' || Date.now() - started >= judge.maxSoakMs) return { verdict, window, probes, ms: Date.now() - started };
  }
}

const boundsMs = DURATION_BUCKETS.map((s) => Number((s * 1000).toPrecision(12)));

test('a canary as fast as stable passes on the judge, latency judged from the Prometheus histogram buckets', async () => {
  const name = `judge-good-${RUN}`;
  const { source } = await service(name, 1);
  const { verdict, window, probes, ms } = await gate(name, source);
  const latency = verdict.evidence.find((e) => e.metric === 'latency')!;
  console.log(`good canary: ${verdict.outcome} after ${probes} probes (${ms} ms); ${latency.words}`);
  expect(verdict.outcome).toBe('pass');
  expect(window.canary.latencyHistogram!.boundsMs).toEqual(boundsMs);
  expect(window.overlapping).toBeUndefined(); // probes 2 s apart: the windows tile, every one counted
  expect(latency.words).toMatch(/^latency from histogram buckets \(\d+ buckets holding requests, .*\) → pass$/);
  expect(latency.canary.samples).toBeGreaterThanOrEqual(latency.requiredSamples);
  // The buckets count the same requests as the counters (both rounded from increase(), each series extrapolated on its own).
  expect(Math.abs(latency.canary.samples - window.canary.requests)).toBeLessThanOrEqual(0.05 * window.canary.requests);
  expect(latency.canary.value / latency.stable.value).toBeGreaterThan(0.85);
  expect(latency.canary.value / latency.stable.value).toBeLessThan(1.15);
}, 150_000);

test('a canary three times slower fails on latency, the evidence naming the buckets', async () => {
  const name = `judge-slow-${RUN}`;
  const { source } = await service(name, 3);
  const { verdict, probes, ms } = await gate(name, source);
  const latency = verdict.evidence.find((e) => e.metric === 'latency')!;
  console.log(`slow canary: ${verdict.outcome} after ${probes} probes (${ms} ms); ${latency.words}`);
  expect(verdict.outcome).toBe('fail');
  expect(latency.outcome).toBe('fail');
  expect(latency.regression.pValue).toBeLessThan(latency.alpha);
  expect(latency.words).toMatch(
    /^latency from histogram buckets \(\d+ buckets holding requests, \([\d.]+, [\d.]+\] ms\): canary median ≈ [\d.]+ ms \(\d+ requests, middle half in \([\d.]+, [\d.]+\] ms\) vs stable ≈ [\d.]+ ms \(\d+, middle half in \([\d.]+, [\d.]+\] ms\) \(\+\d+\.\d%\): slower than stable by more than 5\.00% \(tested as stable ×1\.09\d*(–1\.09\d*)?, the 5\.00% rounded up to whole buckets; U = .*\) → fail$/,
  );
  const ratio = latency.canary.value / latency.stable.value;
  expect(ratio).toBeGreaterThan(2);
  expect(ratio).toBeLessThan(4);
  // Every bucket named in the evidence is one of the proxy's.
  expect(latency.buckets!.upperBoundsMs.every((b) => b === null || boundsMs.includes(b))).toBe(true);
  expect(latency.buckets!.canary.reduce((a, b) => a + b, 0)).toBe(latency.canary.samples);
}, 150_000);
