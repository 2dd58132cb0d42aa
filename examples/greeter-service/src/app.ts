import type { IncomingMessage, ServerResponse } from 'node:http';
import { database, type Database } from './database';
import { greet } from './greeting';
import { insertPerson, personFromRow, selectPerson, type PersonRow } from './people';

/** Routes one request; kept apart from server.ts so tests can serve it on an ephemeral port. */
export function handleRequest(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/people' || url.pathname.startsWith('/people/')) return void handlePeople(req, url).then(([status, body]) => sendJson(res, status, body));
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });

  switch (url.pathname) {
    case '/healthz':
      return sendJson(res, 200, { status: 'ok' });
    case '/greet': {
      const outcome = greet(url.searchParams.get('name'));
      return outcome.ok ? sendJson(res, 200, outcome.greeting) : sendJson(res, 400, { error: outcome.error });
    }
    default:
      return sendJson(res, 404, { error: `no route for ${url.pathname}` });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** `POST /people?name=…` stores a person, `GET /people/<id>` reads one back; 503 without a database. */
async function handlePeople(req: IncomingMessage, url: URL): Promise<[number, unknown]> {
  if (req.method === 'POST' && url.pathname === '/people') {
    if (!url.searchParams.get('name')?.trim()) return [400, { error: 'name is required' }];
    // Stored names follow the greeting's rules: trimmed, whitespace collapsed, letters and . ' -
    const outcome = greet(url.searchParams.get('name'));
    if (!outcome.ok) return [400, { error: outcome.error }];
    return withDatabase(async (db) => [201, personFromRow((await db.rows<PersonRow>(insertPerson(outcome.greeting.name)))[0]!)]);
  }
  const id = /^\/people\/(\d{1,18})$/.exec(url.pathname)?.[1];
  if (req.method === 'GET' && id)
    return withDatabase(async (db) => {
      const [row] = await db.rows<PersonRow>(selectPerson(id));
      return row ? [200, personFromRow(row)] : [404, { error: `no person ${id}` }];
    });
  return req.method === 'GET' || req.method === 'POST' ? [404, { error: `no route for ${req.method} ${url.pathname}` }] : [405, { error: 'method not allowed' }];
}

/** Runs a query on the configured database: 503 when there is none, 500 (logged) when it fails. */
async function withDatabase(run: (db: Database) => Promise<[number, unknown]>): Promise<[number, unknown]> {
  const db = await database();
  if (!db) return [503, { error: 'no database configured (GREETER_DATABASE_URL)' }];
  try {
    return await run(db);
  } catch (error) {
    console.error('people request failed:', error);
    return [500, { error: 'database error' }];
  }
}
