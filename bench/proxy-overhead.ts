/**
 * Latency the weighted proxy adds on loopback: 5,000 sequential keep-alive requests straight to a
 * service and 5,000 through the proxy, interleaved so both see the same machine noise.
 * Service, proxy and client are separate processes, as in the local deployer.
 *
 *   npx tsx bench/proxy-overhead.ts [requests]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from '../core/health';
import type { ProxyState } from '../activities/delivery/proxy';

const REQUESTS = Number(process.argv[2] ?? 5000);
const WARMUP = 500;
const TSX_CLI = require.resolve('tsx/cli');

const SERVICE_SOURCE = `
require('node:http')
  .createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'))
  .listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-bench-'));
  const children: ChildProcess[] = [];
  try {
    const service = spawn(process.execPath, ['-e', SERVICE_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(service);
    const servicePort = await new Promise<number>((resolve) => service.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const serviceUrl = `http://127.0.0.1:${servicePort}/`;

    const readyFile = path.join(dir, 'proxy.ready.json');
    const proxy = spawn(process.execPath, [TSX_CLI, path.join(__dirname, '../activities/delivery/proxy-main.ts'), '--stable', serviceUrl.slice(0, -1), '--ready-file', readyFile], {
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
    const direct: number[] = [];
    const proxied: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      // Alternate which goes first so neither always gets the warmer cache.
      if (i % 2 === 0) {
        direct.push(await timeOne(serviceUrl));
        proxied.push(await timeOne(proxyUrl));
      } else {
        proxied.push(await timeOne(proxyUrl));
        direct.push(await timeOne(serviceUrl));
      }
    }
    agent.destroy();

    const row = (name: string, xs: number[]) =>
      `${name.padEnd(14)} p50 ${percentile(xs, 50).toFixed(3)} ms   p99 ${percentile(xs, 99).toFixed(3)} ms`;
    console.log(`proxy overhead on loopback: ${REQUESTS} sequential keep-alive requests each, interleaved (node ${process.version})`);
    console.log(row('direct', direct));
    console.log(row('through proxy', proxied));
    console.log(
      `added          p50 ${(percentile(proxied, 50) - percentile(direct, 50)).toFixed(3)} ms   p99 ${(percentile(proxied, 99) - percentile(direct, 99)).toFixed(3)} ms`,
    );
  } finally {
    for (const child of children) {
      try {
        process.kill(child.spawnargs.includes(TSX_CLI) ? -child.pid! : child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
