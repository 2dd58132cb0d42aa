/**
 * Weighted HTTP reverse proxy for the local deployer: splits live traffic between a stable and a
 * canary upstream by the canary weight, and records per-version request counts, errors and latency.
 *
 * Two listeners, both on 127.0.0.1: the public one carries traffic, the admin one carries control:
 *   GET  /admin/state                      → ProxyState
 *   POST /admin/upstreams {stable?, canary?} → ProxyState   (canary: null removes it and sets weight 0; each a URL,
 *                                             or {url, endpoints}: labelled by url, served by the endpoints)
 *   POST /admin/weight {weight}             → ProxyState
 *   GET  /admin/metrics[?reset=1]           → ProxyMetrics for the window since the last reset
 *   GET  /admin/tripwire?since=&waitMs=&…   → {tripped: Trip | null, canary} as soon as the canary's outcomes
 *                                             since `since` trip the wire (core/tripwire.ts), else after waitMs
 *   GET  /metrics                           → Prometheus text: requests by role, upstream and status code,
 *                                             a duration histogram by role and upstream (prom-client; its
 *                                             buckets are the statistical judge's latency on Prometheus)
 *   POST /admin/shutdown                    → closes both listeners
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { LATENCY_SAMPLE_SIZE, percentile, type VersionSample } from '../core/health';
import { checkTrip, tripwireSchema, type CanaryOutcome, type Trip, type Tripwire } from '../core/tripwire';

export type VersionRole = 'stable' | 'canary';

export interface ProxyState {
  pid: number;
  publicUrl: string;
  adminUrl: string;
  stable: string | null;
  canary: string | null;
  weight: number;
}

export interface ProxyMetrics {
  windowStartedAt: number;
  windowEndedAt: number;
  weight: number;
  stable: VersionSample;
  canary: VersionSample;
}

export interface WeightedProxyOptions {
  /** 0 picks a free port. */
  publicPort?: number;
  adminPort?: number;
  stable?: string | null;
  canary?: string | null;
  weight?: number;
  /** Upstream response deadline; past it the proxy answers 504 and counts an error. */
  upstreamTimeoutMs?: number;
}

/** Header on every proxied response naming the version that served it (tests and the CLI read it). */
export const VERSION_HEADER = 'x-maestro-version';

// The whole of 127/8 is loopback (the local cluster's node gives each Pod its own 127.x.y.z).
const isLoopbackHost = (hostname: string) => hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);

/** Upstreams must be plain http on loopback: the local deployer is single-host by design. */
export const loopbackUrlSchema = z
  .string()
  .url()
  .refine((raw) => {
    const url = new URL(raw);
    return url.protocol === 'http:' && isLoopbackHost(url.hostname) && url.port !== '';
  }, 'must be an http://127.0.0.1:<port> URL (loopback only, explicit port)');

/**
 * A backend served elsewhere than its name says (the local gateway's: a Kubernetes Service): its series are
 * labelled by `url`'s host:port, its requests go to `endpoints` in turn; none (no ready Pod) answers 503.
 */
export const backendSchema = z
  .object({ url: z.string().url().refine((raw) => new URL(raw).protocol === 'http:', 'must be an http:// URL'), endpoints: z.array(loopbackUrlSchema) })
  .strict();
export type Backend = z.infer<typeof backendSchema>;
const upstreamSchema = z.union([loopbackUrlSchema, backendSchema]);

export const upstreamsBodySchema = z
  .object({ stable: upstreamSchema.optional(), canary: upstreamSchema.nullable().optional() })
  .strict();
export const weightBodySchema = z.object({ weight: z.number().int().min(0).max(100) }).strict();
/** The tripwire's query string: the wire (numbers as text), from when, and how long to wait for a trip. */
export const tripwireQuerySchema = z
  .object({
    since: z.coerce.number().int().min(0),
    waitMs: z.coerce.number().int().min(0).max(60_000).default(10_000),
    errors: z.coerce.number().optional(),
    withinMs: z.coerce.number().optional(),
    minErrorRatio: z.coerce.number().optional(),
    unreachableAfter: z.coerce.number().optional(),
  })
  .strict()
  .transform(({ since, waitMs, ...wire }, ctx) => {
    const parsed = tripwireSchema.safeParse(Object.fromEntries(Object.entries(wire).filter(([, v]) => v !== undefined)));
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path });
      return z.NEVER;
    }
    return { since, waitMs, tripwire: parsed.data };
  });

/**
 * Latency buckets in seconds: 2^(i/8) from 0.49 ms to 10.4 s (116 bounds, 4 significant digits), the bounds of
 * a Prometheus native histogram of schema 3, ×1.09 apart. The statistical judge reads per-version latency
 * from them on a Prometheus source (core/judge.ts judges buckets, moving stable by whole buckets), so they
 * must be finer than its 10% margin: the former 1-2.5-5 series (×2–2.5 apart) could never show one.
 */
export const DURATION_BUCKETS = Array.from({ length: 116 }, (_, k) => Number((2 ** ((k - 88) / 8)).toPrecision(4)));
/** Canary outcomes kept for the tripwire: the newest ones, plenty for any burst window. */
const TRIPWIRE_OUTCOMES_KEPT = 5_000;

// Hop-by-hop headers belong to one connection and must not be forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Bounded latency store: exact counts; latencies kept exactly up to the cap in a preallocated
 * Float64Array (no per-request allocation, no array growth on the hot path), then reservoir-sampled.
 */
class VersionWindow {
  static readonly LATENCY_CAP = 20_000;
  requests = 0;
  errors = 0;
  private readonly latencies = new Float64Array(VersionWindow.LATENCY_CAP);
  private stored = 0;

  record(latencyMs: number, isError: boolean): void {
    this.requests++;
    if (isError) this.errors++;
    if (this.stored < VersionWindow.LATENCY_CAP) this.latencies[this.stored++] = latencyMs;
    else {
      const slot = Math.floor(Math.random() * this.requests);
      if (slot < VersionWindow.LATENCY_CAP) this.latencies[slot] = latencyMs;
    }
  }

  sample(): VersionSample {
    const latencies = Array.from(this.latencies.subarray(0, this.stored));
    return {
      requests: this.requests,
      errors: this.errors,
      p50Ms: round3(percentile(latencies, 50)),
      p95Ms: round3(percentile(latencies, 95)),
      latenciesMs: uniformSample(latencies, LATENCY_SAMPLE_SIZE).map(round3),
    };
  }
}

interface Endpoint {
  hostname: string;
  port: number;
}

interface Upstream {
  url: string;
  /** host:port of `url`, the `upstream` label of its series: each started version has its own. */
  address: string;
  /** Where its requests go, in turn: `url` itself, or a backend's endpoints. */
  endpoints: Endpoint[];
  nextEndpoint: number;
  agent: http.Agent;
}

export class ProxyAdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProxyAdminError';
  }
}

export class WeightedProxy {
  private readonly publicServer: http.Server;
  private readonly adminServer: http.Server;
  private upstreams: Record<VersionRole, Upstream | null> = { stable: null, canary: null };
  private weight = 0;
  /** Smooth weighted counter: adds the weight per request, sends to canary on each 100 crossed. */
  private weightCredit = 0;
  private windows: Record<VersionRole, VersionWindow> = { stable: new VersionWindow(), canary: new VersionWindow() };
  private windowStartedAt = Date.now();
  private readonly upstreamTimeoutMs: number;
  private publicPort = 0;
  private adminPort = 0;
  /** Prometheus series (one registry per proxy, so tests may run several in one process). */
  readonly registry = new Registry();
  private readonly requestsTotal = new Counter({
    name: 'maestro_proxy_requests_total',
    help: 'Requests the proxy forwarded, by version role, upstream address and status code (502/504 when the upstream failed)',
    labelNames: ['role', 'upstream', 'code'] as const,
    registers: [this.registry],
  });
  private readonly requestDuration = new Histogram({
    name: 'maestro_proxy_request_duration_seconds',
    help: 'Time from the request reaching the proxy to the end of the upstream answer, by version role and upstream address',
    labelNames: ['role', 'upstream'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  /** The current canary's finished requests, oldest first (reset when the canary changes). */
  private canaryOutcomes: CanaryOutcome[] = [];
  private tripWaiters = new Set<{ since: number; tripwire: Tripwire; done: (trip: Trip | null) => void }>();

  constructor(private readonly options: WeightedProxyOptions = {}) {
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? 30_000;
    this.publicServer = http.createServer({ keepAlive: true }, (req, res) => this.forward(req, res));
    this.publicServer.keepAliveTimeout = 30_000;
    this.adminServer = http.createServer((req, res) => void this.handleAdmin(req, res));
    if (options.stable) this.setUpstreams({ stable: options.stable, canary: options.canary ?? null });
    if (options.weight !== undefined) this.setWeight(options.weight);
  }

  async start(): Promise<ProxyState> {
    this.publicPort = await listen(this.publicServer, this.options.publicPort ?? 0);
    this.adminPort = await listen(this.adminServer, this.options.adminPort ?? 0);
    return this.state();
  }

  async stop(): Promise<void> {
    for (const waiter of this.tripWaiters) waiter.done(null);
    this.publicServer.closeAllConnections();
    this.adminServer.closeAllConnections();
    await Promise.all([closeServer(this.publicServer), closeServer(this.adminServer)]);
    for (const upstream of Object.values(this.upstreams)) upstream?.agent.destroy();
  }

  state(): ProxyState {
    return {
      pid: process.pid,
      publicUrl: `http://127.0.0.1:${this.publicPort}`,
      adminUrl: `http://127.0.0.1:${this.adminPort}`,
      stable: this.upstreams.stable?.url ?? null,
      canary: this.upstreams.canary?.url ?? null,
      weight: this.weight,
    };
  }

  /** Changes upstreams atomically; a role whose URL changes starts a fresh metrics window. */
  setUpstreams(input: unknown): ProxyState {
    const body = parseBody(upstreamsBodySchema, input);
    if (body.stable !== undefined) this.replaceUpstream('stable', body.stable);
    if (body.canary !== undefined) this.replaceUpstream('canary', body.canary);
    // Without a canary every request goes to stable; the weight says so too.
    if (!this.upstreams.canary) this.weight = 0;
    return this.state();
  }

  setWeight(input: unknown): ProxyState {
    const { weight } = parseBody(weightBodySchema, typeof input === 'number' ? { weight: input } : input);
    if (weight > 0 && !this.upstreams.canary) throw new ProxyAdminError(409, `cannot set weight ${weight}: no canary upstream`);
    if (weight !== this.weight) this.weightCredit = 0;
    this.weight = weight;
    return this.state();
  }

  metrics(reset: boolean): ProxyMetrics {
    const now = Date.now();
    const result: ProxyMetrics = {
      windowStartedAt: this.windowStartedAt,
      windowEndedAt: now,
      weight: this.weight,
      stable: this.windows.stable.sample(),
      canary: this.windows.canary.sample(),
    };
    if (reset) {
      this.windows = { stable: new VersionWindow(), canary: new VersionWindow() };
      this.windowStartedAt = now;
    }
    return result;
  }

  private replaceUpstream(role: VersionRole, spec: string | Backend | null): void {
    const current = this.upstreams[role];
    const url = spec === null ? null : typeof spec === 'string' ? new URL(spec).origin : spec.url;
    if (current && current.url === url) {
      // The same backend on other endpoints (a Pod replaced): its series and window go on.
      if (typeof spec === 'object' && spec !== null) current.endpoints = spec.endpoints.map(endpointOf);
      return;
    }
    if (!current && url === null) return;
    if (current) {
      // Let in-flight requests finish on the old sockets; idle ones go now.
      const old = current.agent;
      setTimeout(() => old.destroy(), this.upstreamTimeoutMs).unref();
    }
    this.upstreams[role] = spec ? makeUpstream(spec) : null;
    this.windows[role] = new VersionWindow();
    if (role === 'canary') this.canaryOutcomes = [];
  }

  /** Called once per finished request: the Prometheus series, and the tripwire for the canary. */
  recordOutcome(role: VersionRole, upstream: Upstream, code: number, seconds: number, isError: boolean, unreachable: boolean): void {
    this.requestsTotal.inc({ role, upstream: upstream.address, code: String(code) });
    this.requestDuration.observe({ role, upstream: upstream.address }, seconds);
    if (role !== 'canary' || this.upstreams.canary !== upstream) return;
    const outcome: CanaryOutcome = { at: Date.now(), error: isError, unreachable };
    this.canaryOutcomes.push(outcome);
    if (this.canaryOutcomes.length > 2 * TRIPWIRE_OUTCOMES_KEPT) this.canaryOutcomes = this.canaryOutcomes.slice(-TRIPWIRE_OUTCOMES_KEPT);
    for (const waiter of this.tripWaiters) {
      const trip = checkTrip(this.canaryOutcomes, waiter.tripwire, waiter.since);
      if (trip) waiter.done(trip);
    }
  }

  /** Resolves with the trip as soon as the canary's outcomes since `since` trip the wire, or null after waitMs. */
  awaitTrip(since: number, tripwire: Tripwire, waitMs: number): Promise<Trip | null> {
    const now = checkTrip(this.canaryOutcomes, tripwire, since);
    if (now || waitMs === 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiter = {
        since,
        tripwire,
        done: (trip: Trip | null) => {
          clearTimeout(timer);
          this.tripWaiters.delete(waiter);
          resolve(trip);
        },
      };
      const timer = setTimeout(() => waiter.done(null), waitMs);
      this.tripWaiters.add(waiter);
    });
  }

  private chooseRole(): VersionRole {
    if (this.weight === 0 || !this.upstreams.canary) return 'stable';
    this.weightCredit += this.weight;
    if (this.weightCredit >= 100) {
      this.weightCredit -= 100;
      return 'canary';
    }
    return 'stable';
  }

  /**
   * The hot path. Per request it allocates one Exchange and the two header arrays; the listeners are
   * shared module functions that find the Exchange on the emitter, headers are copied from
   * rawHeaders (no req.headers object), a bodyless request is sent upstream at once (no req.pipe),
   * and the response body is relayed with write/end (no pipe bookkeeping).
   */
  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const startedAt = performance.now();
    const role = this.chooseRole();
    const upstream = this.upstreams[role];
    if (!upstream) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no upstream configured\n');
      return;
    }
    const endpoint = upstream.endpoints[upstream.nextEndpoint++ % upstream.endpoints.length];
    if (!endpoint) {
      // A backend without a ready endpoint fails its share of the traffic, as a gateway's does: the gates see it.
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain', [VERSION_HEADER]: role }).end(`no ready endpoint for ${upstream.address} (${role})\n`);
      const latencyMs = performance.now() - startedAt;
      this.windows[role].record(latencyMs, true);
      this.recordOutcome(role, upstream, 503, latencyMs / 1000, true, true);
      return;
    }

    // Hop-by-hop headers and any client-sent X-Forwarded-For are dropped; ours is appended.
    const raw = req.rawHeaders;
    const headers: string[] = [];
    let hasBody = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const lower = name.toLowerCase();
      if (lower === 'content-length') hasBody ||= raw[i + 1] !== '0';
      else if (lower === 'transfer-encoding') hasBody = true;
      if (HOP_BY_HOP.has(lower) || lower === 'x-forwarded-for') continue;
      headers.push(name, raw[i + 1]!);
    }
    headers.push('x-forwarded-for', req.socket.remoteAddress ?? '127.0.0.1');

    const upstreamReq = http.request({
      hostname: endpoint.hostname,
      port: endpoint.port,
      method: req.method,
      path: req.url,
      headers,
      agent: upstream.agent,
      timeout: this.upstreamTimeoutMs,
    }) as Tagged<http.ClientRequest>;
    const exchange = new Exchange(res, upstreamReq, role, this, upstream, this.windows[role], startedAt);
    upstreamReq[EXCHANGE] = exchange;
    upstreamReq.on('response', onUpstreamResponse);
    upstreamReq.on('error', onUpstreamError);
    upstreamReq.on('timeout', onUpstreamTimeout);
    (res as Tagged<http.ServerResponse>)[EXCHANGE] = exchange;
    res.on('close', onClientClose);
    // Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 §6.3).
    if (hasBody) req.pipe(upstreamReq);
    else upstreamReq.end();
  }

  private async handleAdmin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    try {
      switch (route) {
        case 'GET /admin/state':
          return sendJson(res, 200, this.state());
        case 'GET /admin/metrics':
          return sendJson(res, 200, this.metrics(url.searchParams.get('reset') === '1'));
        case 'GET /admin/tripwire': {
          const query = parseBody(tripwireQuerySchema, Object.fromEntries(url.searchParams));
          const tripped = await this.awaitTrip(query.since, query.tripwire, query.waitMs);
          return sendJson(res, 200, { tripped, canary: this.upstreams.canary?.url ?? null });
        }
        case 'GET /metrics': {
          const text = await this.registry.metrics();
          res.writeHead(200, { 'content-type': this.registry.contentType, 'content-length': Buffer.byteLength(text) }).end(text);
          return;
        }
        case 'POST /admin/upstreams':
          return sendJson(res, 200, this.setUpstreams(await readJson(req)));
        case 'POST /admin/weight':
          return sendJson(res, 200, this.setWeight(await readJson(req)));
        case 'POST /admin/shutdown':
          sendJson(res, 200, { stopping: true });
          setImmediate(() => void this.stop());
          return;
        default:
          return sendJson(res, 404, { error: `no admin route ${route}` });
      }
    } catch (err) {
      if (err instanceof ProxyAdminError) return sendJson(res, err.status, { error: err.message });
      return sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

class UpstreamTimeout extends Error {
  constructor() {
    super('upstream response timed out');
  }
}

/** What the shared listeners of one proxied request need; found on the emitters under EXCHANGE. */
class Exchange {
  private recorded = false;
  status = 0;
  upstreamRes: http.IncomingMessage | null = null;
  awaitingDrain = false;

  constructor(
    readonly res: http.ServerResponse,
    readonly upstreamReq: http.ClientRequest,
    readonly role: VersionRole,
    private readonly proxy: WeightedProxy,
    private readonly upstream: Upstream,
    private readonly window: VersionWindow,
    private readonly startedAt: number,
  ) {}

  /** `code` is the status the client got; `unreachable` when the upstream never answered (refused, reset). */
  finish(isError: boolean, code = this.status, unreachable = false): void {
    if (this.recorded) return;
    this.recorded = true;
    const latencyMs = performance.now() - this.startedAt;
    this.window.record(latencyMs, isError);
    this.proxy.recordOutcome(this.role, this.upstream, code, latencyMs / 1000, isError, unreachable);
  }

  /** A client that goes away is not the version's fault: nothing is recorded for it. */
  abandon(): void {
    this.recorded = true;
  }
}

const EXCHANGE = Symbol('maestro.proxy.exchange');
type Tagged<T> = T & { [EXCHANGE]: Exchange };

function onUpstreamResponse(this: Tagged<http.ClientRequest>, upstreamRes: http.IncomingMessage): void {
  const exchange = this[EXCHANGE];
  const status = upstreamRes.statusCode ?? 502;
  exchange.status = status;
  exchange.upstreamRes = upstreamRes;
  const responseHeaders: string[] = [];
  const raw = upstreamRes.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) responseHeaders.push(raw[i]!, raw[i + 1]!);
  responseHeaders.push(VERSION_HEADER, exchange.role);
  exchange.res.writeHead(status, upstreamRes.statusMessage, responseHeaders);
  (upstreamRes as Tagged<http.IncomingMessage>)[EXCHANGE] = exchange;
  upstreamRes.on('data', onUpstreamData);
  upstreamRes.on('end', onUpstreamEnd);
  upstreamRes.on('error', onUpstreamResponseError);
}

/** Relays a body chunk with back-pressure: a full client socket pauses the upstream response. */
function onUpstreamData(this: Tagged<http.IncomingMessage>, chunk: Buffer): void {
  const exchange = this[EXCHANGE];
  if (exchange.res.write(chunk)) return;
  this.pause();
  if (!exchange.awaitingDrain) {
    exchange.awaitingDrain = true;
    exchange.res.on('drain', onClientDrain);
  }
}

function onClientDrain(this: Tagged<http.ServerResponse>): void {
  this[EXCHANGE].upstreamRes?.resume();
}

function onUpstreamEnd(this: Tagged<http.IncomingMessage>): void {
  const exchange = this[EXCHANGE];
  exchange.res.end();
  exchange.finish(exchange.status >= 500);
}

function onUpstreamResponseError(this: Tagged<http.IncomingMessage>): void {
  const exchange = this[EXCHANGE];
  exchange.finish(true);
  exchange.res.destroy();
}

function onUpstreamTimeout(this: http.ClientRequest): void {
  this.destroy(new UpstreamTimeout());
}

function onUpstreamError(this: Tagged<http.ClientRequest>, err: Error): void {
  const exchange = this[EXCHANGE];
  const res = exchange.res;
  const timedOut = err instanceof UpstreamTimeout;
  const code = (err as NodeJS.ErrnoException).code;
  exchange.finish(true, res.headersSent ? exchange.status : timedOut ? 504 : 502, !res.headersSent && (code === 'ECONNREFUSED' || code === 'ECONNRESET'));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .writeHead(timedOut ? 504 : 502, { 'content-type': 'text/plain', [VERSION_HEADER]: exchange.role })
    .end(`${timedOut ? 'upstream timed out' : 'upstream unavailable'} (${exchange.role}): ${err.message}\n`);
}

/** A client that goes away mid-request must not leave the upstream request hanging. */
function onClientClose(this: Tagged<http.ServerResponse>): void {
  if (this.writableFinished) return;
  const exchange = this[EXCHANGE];
  exchange.abandon();
  exchange.upstreamReq.destroy();
}

function makeUpstream(spec: string | Backend): Upstream {
  const url = typeof spec === 'string' ? new URL(spec).origin : spec.url;
  return {
    url,
    address: new URL(url).host,
    endpoints: typeof spec === 'string' ? [endpointOf(spec)] : spec.endpoints.map(endpointOf),
    nextEndpoint: 0,
    // `timeout` makes Node's agent honour an upstream's Keep-Alive hint (Node servers send timeout=5): an idle
    // socket is then closed by the proxy a second before the upstream would, instead of kept forever and reused
    // at the instant the upstream closes it (ECONNRESET → a 502 the version did not cause). It is the idle
    // limit for upstreams that give no hint; a request's own limit stays upstreamTimeoutMs.
    agent: new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo', timeout: 60_000 }),
  };
}

function endpointOf(url: string): Endpoint {
  const parsed = new URL(url);
  return { hostname: parsed.hostname === 'localhost' ? '127.0.0.1' : parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port) };
}

function parseBody<S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const detail = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  throw new ProxyAdminError(400, `invalid body: ${detail}`);
}

const MAX_ADMIN_BODY = 64 * 1024;

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_ADMIN_BODY) throw new ProxyAdminError(413, `body larger than ${MAX_ADMIN_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ProxyAdminError(400, 'invalid body: expected a JSON object, got an empty body');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ProxyAdminError(400, `invalid body: not JSON (${(err as Error).message})`);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** At most `size` of the values, each equally likely (a partial Fisher–Yates shuffle of the given array). */
function uniformSample(values: number[], size: number): number[] {
  const take = Math.min(size, values.length);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(Math.random() * (values.length - i));
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return values.slice(0, take);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
