/**
 * Latency the weighted proxy adds on loopback: sequential keep-alive requests straight to a service
 * and through the proxy, interleaved so both see the same machine noise, repeated over several
 * rounds (fresh service and proxy each round). Service, proxy and client are separate processes,
 * and the proxy is started the way the local deployer starts it (tsx, same node flags).
 *
 *   npx tsx bench/proxy-overhead.ts [requests per round = 5000] [rounds = 3]
 *
 * Prints p50 / p99 / p99.9 of both series per round, then the median over rounds of the added p50
 * and p99 (added pXX = pXX through the proxy − pXX direct; the budget is added p99 ≤ 1 ms).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from '../core/health';
import type { ProxyState } from '../delivery/proxy';
import { PROXY_NODE_FLAGS } from '../delivery/local-deployer';

const REQUESTS = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 3);
/** Per series, before each round's measured requests: JIT, sockets and semi-space sizes settle. */
const WARMUP = 1000;
import { TSX_CLI } from '../io/paths';

const SERVICE_SOURCE = `
require('node:http')
  .createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'))
  .listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });`;

interface RoundResult {
  direct: number[];
  proxied: number[];
}

async function runRound(dir: string, round: number): Promise<RoundResult> {
  const children: ChildProcess[] = [];
  try {
    const service = spawn(process.execPath, ['-e', SERVICE_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(service);
    const servicePort = await new Promise<number>((resolve) => service.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const serviceUrl = `http://127.0.0.1:${servicePort}/`;

    const readyFile = path.join(dir, `proxy.${round}.ready.json`);
    const proxyMain = path.join(__dirname, '../delivery/proxy-main.ts');
    const proxy = spawn(process.execPath, [TSX_CLI, ...PROXY_NODE_FLAGS, proxyMain, '--stable', serviceUrl.slice(0, -1), '--ready-file', readyFile], {
      stdio: ['ignore', 'ignore', 'inherit'],
      detached: true, // own group: stopping it also stops the node process tsx starts under it
    });
    children.push(proxy);
    while (!existsSync(readyFile)) await sleep(20);
    const state = JSON.parse(readFileSync(readyFile, 'utf8')) as ProxyState;
    const proxyUrl = `${state.publicUrl}/`;

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const timeOne = (url: string) =>
      new Promise<number>((resolve, reject) => {
        const started = performance.now();
        http
          .get(url, { agent }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`status ${res.statusCode}`))));
          })
          .on('error', reject);
      });

    for (let i = 0; i < WARMUP; i++) {
      await timeOne(serviceUrl);
      await timeOne(proxyUrl);
    }
    const direct = new Float64Array(REQUESTS);
    const proxied = new Float64Array(REQUESTS);
    for (let i = 0; i < REQUESTS; i++) {
      // Alternate which goes first so neither always gets the warmer cache.
      if (i % 2 === 0) {
        direct[i] = await timeOne(serviceUrl);
        proxied[i] = await timeOne(proxyUrl);
      } else {
        proxied[i] = await timeOne(proxyUrl);
        direct[i] = await timeOne(serviceUrl);
      }
    }
    agent.destroy();
    return { direct: Array.from(direct), proxied: Array.from(proxied) };
  } finally {
    for (const child of children) {
      try {
        process.kill(child.spawnargs.includes(TSX_CLI) ? -child.pid! : child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  }
}

const ms = (n: number) => `${n.toFixed(3)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-bench-'));
  try {
    console.log(
      `proxy overhead on loopback: ${ROUNDS} rounds × ${REQUESTS} sequential keep-alive requests per series, interleaved, ${WARMUP} warm-up (node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)})`,
    );
    const added50: number[] = [];
    const added99: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const { direct, proxied } = await runRound(dir, round);
      const row = (name: string, xs: number[]) =>
        `  ${name.padEnd(14)} p50 ${ms(percentile(xs, 50))}   p99 ${ms(percentile(xs, 99))}   p99.9 ${ms(percentile(xs, 99.9))}`;
      const a50 = percentile(proxied, 50) - percentile(direct, 50);
      const a99 = percentile(proxied, 99) - percentile(direct, 99);
      added50.push(a50);
      added99.push(a99);
      console.log(`round ${round}`);
      console.log(row('direct', direct));
      console.log(row('through proxy', proxied));
      console.log(`  ${'added'.padEnd(14)} p50 ${ms(a50)}   p99 ${ms(a99)}   p99.9 ${ms(percentile(proxied, 99.9) - percentile(direct, 99.9))}`);
    }
    console.log(`median of ${ROUNDS} rounds: added p50 ${ms(median(added50))}   added p99 ${ms(median(added99))}   (rounds: ${added99.map((x) => x.toFixed(3)).join(', ')})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
