/**
 * Synthetic traffic generator: `concurrency` loops share one request schedule at `rps` and stop by
 * themselves after `durationMs`. Loopback targets only.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { VERSION_HEADER } from './proxy';

/** A generator that is never stopped must still end: one hour is the most it will run. */
export const MAX_TRAFFIC_DURATION_MS = 60 * 60 * 1000;

export const trafficOptionsSchema = z
  .object({
    url: z
      .string()
      .url()
      .refine((raw) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(raw).hostname), 'traffic targets loopback only'),
    rps: z.number().positive().max(10_000),
    durationMs: z.number().int().positive().max(MAX_TRAFFIC_DURATION_MS),
    concurrency: z.number().int().min(1).max(256).default(8),
    /** Paths requested in turn, so a service sees more than one route. */
    paths: z.array(z.string().startsWith('/')).min(1).default(['/']),
    requestTimeoutMs: z.number().int().positive().default(5000),
  })
  .strict();
export type TrafficOptions = z.input<typeof trafficOptionsSchema>;

export interface TrafficStats {
  sent: number;
  ok: number;
  /** 5xx answers and failed requests. */
  errors: number;
  /** Responses per value of the proxy's version header ('direct' when absent). */
  byVersion: Record<string, number>;
  elapsedMs: number;
}

/** Runs traffic until durationMs has passed or `signal` aborts; resolves with what was sent. */
export async function runTraffic(options: TrafficOptions, signal?: AbortSignal): Promise<TrafficStats> {
  const opts = trafficOptionsSchema.parse(options);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const stats: TrafficStats = { sent: 0, ok: 0, errors: 0, byVersion: {}, elapsedMs: 0 };
  const startedAt = performance.now();
  const endsAt = startedAt + opts.durationMs;
  const intervalMs = 1000 / opts.rps;
  let nextTicket = 0;
  const stopped = () => signal?.aborted === true || performance.now() >= endsAt;

  const loop = async () => {
    while (!stopped()) {
      let dueAt = startedAt + nextTicket * intervalMs;
      const now = performance.now();
      // After a stall (slow upstream), skip missed slots instead of bursting to catch up.
      if (now - dueAt > 1000) {
        nextTicket = Math.ceil((now - startedAt) / intervalMs);
        dueAt = startedAt + nextTicket * intervalMs;
      }
      const ticket = nextTicket++;
      if (dueAt > now) {
        await sleep(Math.min(dueAt - now, Math.max(0, endsAt - now)), undefined, signal ? { signal } : undefined).catch(() => undefined);
        if (stopped()) return;
      }
      const path = opts.paths[ticket % opts.paths.length]!;
      const result = await requestOnce(new URL(path, opts.url), agent, opts.requestTimeoutMs);
      stats.sent++;
      if (result.status !== undefined && result.status < 500) stats.ok++;
      else stats.errors++;
      const version = result.version ?? 'direct';
      stats.byVersion[version] = (stats.byVersion[version] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, loop));
  } finally {
    agent.destroy();
  }
  stats.elapsedMs = Math.round(performance.now() - startedAt);
  return stats;
}

function requestOnce(url: URL, agent: http.Agent, timeoutMs: number): Promise<{ status?: number; version?: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { 'user-agent': 'maestro-traffic' } }, (res) => {
      const header = res.headers[VERSION_HEADER];
      const version = Array.isArray(header) ? header[0] : header;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, version }));
      res.on('error', () => resolve({ version }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({}));
  });
}
