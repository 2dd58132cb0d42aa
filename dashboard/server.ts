/**
 * The project's one web server (`maestro serve`): the overview (trains, KPIs with trends, spend) and one
 * page per train (why it ended, stages, eval checks, live timeline while it runs), plus the JSON behind
 * them. Reads the record; live figures come from `liveTrain` (Temporal's status query) when given.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors';
import { explainTrain } from '../core/explain';
import { computeKpis, kpiTrend, parsePeriod } from '../core/kpi';
import { describeIssues } from '../core/validation';
import type { RecordStore } from '../record/store';
import { esc, page } from './html';
import { migrationReader } from './migrations';
import { migrationCells, migrationsPage, overviewPage, tracePage, trainPage, type LiveTrain, type MigrationRow, type TraceData } from './pages';
import { waterfall, type TraceSpan } from '../core/trace-view';

export interface DashboardDeps {
  record: RecordStore;
  /** A running train's live status; undefined when unknown (no Temporal, or no such workflow). */
  liveTrain?: (trainId: string) => Promise<LiveTrain | undefined>;
  /** A train's trace (its id from the train's memo, spans from OTLP JSON files or Jaeger); undefined when there is none. */
  trace?: (trainId: string) => Promise<{ traceId: string; source: string; spans: TraceSpan[] } | undefined>;
  now?: () => number;
}

const DAY = 24 * 60 * 60_000;
const trainIdParams = z.object({ id: z.string().min(1).max(200) });
const periodQuery = z.object({ since: z.string().optional(), until: z.string().optional() }).strict();

/** A bad request says what was wrong with which parameter, as HTML for a person and JSON for a program. */
class BadRequest extends Error {}

export function createDashboard(deps: DashboardDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  const now = deps.now ?? Date.now;

  const period = (query: unknown) => {
    const q = periodQuery.safeParse(query);
    if (!q.success) throw new BadRequest(describeIssues(q.error).map((i) => `${i.path || 'query'}: ${i.message}`).join('; '));
    try {
      return parsePeriod(q.data, now());
    } catch (err) {
      if (err instanceof InvalidInputError) throw new BadRequest(err.message.replace(/\n\s*/g, ' '));
      throw err;
    }
  };
  // Trend buckets: a day for periods up to five weeks, a week beyond.
  const overview = async (query: unknown) => {
    const p = period(query);
    const [trains, facts] = await Promise.all([
      deps.record.listTrains({ since: new Date(p.since), until: new Date(p.until), limit: 500 }),
      deps.record.trainFacts({ since: new Date(p.since), until: new Date(p.until) }),
    ]);
    const bucket = p.until - p.since <= 35 * DAY ? DAY : 7 * DAY;
    return { period: p, trains, facts, kpis: computeKpis(facts, p), trend: kpiTrend(facts, p, bucket) };
  };
  const trainId = (params: unknown) => {
    const p = trainIdParams.safeParse(params);
    if (!p.success) throw new BadRequest(`train id: ${describeIssues(p.error).map((i) => i.message).join('; ')}`);
    return p.data.id;
  };
  const dossier = async (params: unknown) => {
    const id = trainId(params);
    try {
      return await deps.record.trainDossier({ trainId: id });
    } catch (err) {
      if ((err as { type?: string }).type === 'UnknownTrain') return undefined;
      throw err;
    }
  };

  app.setErrorHandler((err, request, reply) => {
    const status = err instanceof BadRequest ? 400 : 500;
    const message = err instanceof BadRequest ? err.message : `the dashboard failed: ${(err as Error).message}`;
    if (request.url.startsWith('/api/')) return reply.code(status).send({ error: message });
    return reply.code(status).type('text/html').send(page('Error', `<h1>${status === 400 ? 'Bad request' : 'Error'}</h1><p id="error">${esc(message)}</p>`));
  });
  const notFound = (reply: FastifyReply, api: boolean, id: string) =>
    api
      ? reply.code(404).send({ error: `no train '${id}' in the record` })
      : reply.code(404).type('text/html').send(page('Not found', `<h1>Not found</h1><p id="error">No train '${esc(id)}' in the record.</p><p><a href="/">All trains</a></p>`));

  // The migrations trains of the last week carry, each read from its own database.
  const migrations = migrationReader();
  app.addHook('onClose', () => migrations.close());
  const migrationRows = async (): Promise<MigrationRow[]> => {
    const trains = (await deps.record.listTrains({ since: new Date(now() - 7 * DAY), limit: 500 })).filter((t) => t.migration);
    return Promise.all(trains.map(async (train) => ({ train, name: train.migration!.name, reading: await migrations.read(train.migration!.databaseUrl, train.migration!.name) })));
  };
  app.get('/migrations', async (_request, reply) => reply.type('text/html').send(migrationsPage(await migrationRows())));
  app.get('/api/migrations', async (request) => {
    const rows = await migrationRows();
    // ?cells=1: the rendered cells, for the page's own refresh.
    if ((request.query as { cells?: string }).cells === '1') return { rows: rows.map(migrationCells) };
    return { migrations: rows.map((r) => ({ trainId: r.train.id, name: r.name, ...r.reading })) };
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/', async (request, reply) => reply.type('text/html').send(overviewPage(await overview(request.query))));
  app.get('/api/overview', async (request) => overview(request.query));
  app.get('/api/kpi', async (request) => {
    const { period: p, kpis, trend } = await overview(request.query);
    return { since: new Date(p.since).toISOString(), until: new Date(p.until).toISOString(), kpis, trend };
  });
  app.get('/trains/:id', async (request, reply) => {
    const d = await dossier(request.params);
    if (!d) return notFound(reply, false, String((request.params as { id: string }).id));
    const live = d.train.state === 'running' && deps.liveTrain ? await deps.liveTrain(d.train.id) : undefined;
    if (live) d.summary = { timeline: live.timeline };
    return reply.type('text/html').send(trainPage(d, explainTrain(d), live));
  });
  app.get('/api/trains/:id', async (request, reply) => {
    const d = await dossier(request.params);
    if (!d) return notFound(reply, true, String((request.params as { id: string }).id));
    return { dossier: d, explanation: explainTrain(d) };
  });
  /** The trace's waterfall, or why there is none (404 with the reason). */
  const traceOf = async (params: unknown): Promise<TraceData | string> => {
    const id = trainId(params);
    if (!deps.trace) return 'tracing is off: start the worker and CLI with MAESTRO_OTLP_ENDPOINT (file:///dir for OTLP JSON files, or Jaeger\'s OTLP URL) and serve with the same setting';
    const found = await deps.trace(id);
    if (!found) return `train '${id}' has no trace: it was started without tracing, or is unknown to Temporal`;
    if (found.spans.length === 0) return `trace ${found.traceId} of train '${id}' has no spans in ${found.source} (yet)`;
    return { trainId: id, source: found.source, waterfall: waterfall(found.traceId, found.spans) };
  };
  app.get('/trains/:id/trace', async (request, reply) => {
    const t = await traceOf(request.params);
    if (typeof t === 'string') return reply.code(404).type('text/html').send(page('No trace', `<h1>No trace</h1><p id="error">${esc(t)}</p>`));
    return reply.type('text/html').send(tracePage(t));
  });
  app.get('/api/trains/:id/trace', async (request, reply) => {
    const t = await traceOf(request.params);
    if (typeof t === 'string') return reply.code(404).send({ error: t });
    return t;
  });
  app.get('/api/trains/:id/live', async (request, reply) => {
    const id = trainId(request.params);
    const live = deps.liveTrain ? await deps.liveTrain(id) : undefined;
    if (!live) return reply.code(404).send({ error: deps.liveTrain ? `train '${id}' is not known to Temporal` : 'no Temporal connection: live status is not available' });
    return live;
  });
  return app;
}

/** Listens on loopback; resolves to the base URL. */
export async function listenDashboard(app: FastifyInstance, port: number, host = '127.0.0.1'): Promise<string> {
  const address = await app.listen({ port, host });
  return address.replace('[::1]', '127.0.0.1');
}
