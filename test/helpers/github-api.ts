/**
 * A GitHub REST server on 127.0.0.1 for the issues endpoints, checked against GitHub's published OpenAPI
 * description (npm @octokit/openapi, api.github.com.json): every request must match a path and method of
 * the description, its path and query parameters and its JSON body must validate against the operation's
 * schemas (ajv), and it must send the headers GitHub asks for. A request that does not is answered 400
 * and recorded in `violations`. Issues and comments are kept in memory; answers are the description's
 * own examples with the stored fields filled in.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  parameters?: Json[];
  requestBody?: { required?: boolean; content: { 'application/json': { schema: Json } } };
}

const SPEC_FILE = path.join(path.dirname(require.resolve('@octokit/openapi/package.json')), 'generated', 'api.github.com.json');
let spec: { paths: Record<string, Record<string, Operation>>; components: { parameters: Record<string, Json>; examples: Record<string, { value: Json }> } } | undefined;
let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function loadSpec() {
  spec ??= JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8'));
  if (!ajv) {
    // OpenAPI 3.0 schemas: `nullable` is ajv's own keyword; examples and x- extensions are not checked.
    ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema(nullableToJsonSchema({ components: spec!.components }), 'github');
  }
  return { spec: spec!, ajv };
}

/** OpenAPI 3.0's `nullable` beside `oneOf`/`allOf` (no `type`), which ajv rejects, as JSON Schema's `anyOf` with null. */
function nullableToJsonSchema<T>(node: T): T {
  if (Array.isArray(node)) return node.map(nullableToJsonSchema) as T;
  if (!node || typeof node !== 'object') return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, nullableToJsonSchema(v)])) as Json;
  if (out.nullable === true && out.type === undefined) {
    const { nullable: _nullable, ...rest } = out;
    return { anyOf: [rest, { type: 'null' }] } as T;
  }
  return out as T;
}

/** The schema with its `#/components/...` references pointed at the loaded description. */
function validatorFor(id: string, schema: Json): ValidateFunction {
  const cached = validators.get(id);
  if (cached) return cached;
  const rewritten = JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\/components\//g, '"$ref":"github#/components/')) as Json;
  const fn = loadSpec().ajv.compile(nullableToJsonSchema(rewritten));
  validators.set(id, fn);
  return fn;
}

function resolveParameter(p: Json): Json {
  const ref = p.$ref as string | undefined;
  return ref ? loadSpec().spec.components.parameters[ref.split('/').pop()!]! : p;
}

/** The operation a method and path name in the description, and the path parameters. */
function matchOperation(method: string, pathname: string): { template: string; op: Operation; params: Record<string, string> } | undefined {
  const { spec } = loadSpec();
  for (const [template, ops] of Object.entries(spec.paths)) {
    const op = ops[method.toLowerCase()];
    if (!op) continue;
    const names: string[] = [];
    const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)'))}$`);
    const m = re.exec(pathname);
    if (m) return { template, op, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return undefined;
}

/** Problems with one request against the description; empty when it conforms. */
export function checkRequest(method: string, url: URL, headers: http.IncomingHttpHeaders, body: unknown): { operationId?: string; problems: string[] } {
  const match = matchOperation(method, url.pathname);
  if (!match) return { problems: [`${method} ${url.pathname} is no operation of GitHub's REST API`] };
  const { op } = match;
  const problems: string[] = [];
  if (headers.accept !== 'application/vnd.github+json') problems.push(`accept is ${headers.accept}, not application/vnd.github+json`);
  if (!/^Bearer \S+$/.test(headers.authorization ?? '')) problems.push('no Authorization: Bearer token');
  if (headers['x-github-api-version'] !== '2022-11-28') problems.push('no X-GitHub-Api-Version: 2022-11-28');
  if (!headers['user-agent']) problems.push('no User-Agent (GitHub refuses requests without one)');
  for (const raw of op.parameters ?? []) {
    const p = resolveParameter(raw);
    const name = p.name as string;
    const where = p.in as string;
    const value = where === 'path' ? match.params[name] : where === 'query' ? (url.searchParams.get(name) ?? undefined) : undefined;
    if (value === undefined) {
      if (p.required && where !== 'header') problems.push(`missing ${where} parameter ${name}`);
      continue;
    }
    const schema = (p.schema ?? {}) as Json;
    const typed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value;
    const validate = validatorFor(`${op.operationId}:${where}:${name}`, schema);
    if (!validate(typed)) problems.push(`${where} parameter ${name}=${value}: ${loadSpec().ajv.errorsText(validate.errors)}`);
  }
  const known = new Set((op.parameters ?? []).map((p) => resolveParameter(p).name as string));
  for (const name of url.searchParams.keys()) if (!known.has(name)) problems.push(`unknown query parameter ${name}`);
  const bodySchema = op.requestBody?.content['application/json']?.schema;
  if (bodySchema) {
    if (body === undefined) {
      if (op.requestBody?.required) problems.push('missing JSON body');
    } else {
      const validate = validatorFor(`${op.operationId}:body`, bodySchema);
      if (!validate(body)) problems.push(`body: ${loadSpec().ajv.errorsText(validate.errors)}`);
      if (headers['content-type'] !== 'application/json') problems.push(`content-type is ${headers['content-type']}, not application/json`);
    }
  } else if (body !== undefined) problems.push(`${op.operationId} takes no body`);
  return { operationId: op.operationId, problems };
}

export interface StoredIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  comments: string[];
}

export interface GitHubApiServer {
  url: string;
  issues: StoredIssue[];
  /** Every request as `operationId` (or `METHOD path` when it matched none). */
  calls: string[];
  violations: string[];
  close(): Promise<void>;
}

/** The issues endpoints of one repository, `owner/name`; requests are checked against the description first. */
export async function startGitHubApiServer(repo: string, token: string): Promise<GitHubApiServer> {
  const { spec } = loadSpec();
  const example = (name: string) => structuredClone(spec.components.examples[name]!.value);
  const state: GitHubApiServer = { url: '', issues: [], calls: [], violations: [], close: async () => undefined };
  const base = `https://github.com/${repo}/issues`;
  // The description's example issue is one of a pull request; a plain issue has no `pull_request`.
  const { pull_request: _pr, ...plainIssue } = example('issue');
  const issueJson = (i: StoredIssue): Json => ({
    ...structuredClone(plainIssue),
    number: i.number,
    id: 1000 + i.number,
    title: i.title,
    body: i.body,
    state: i.state,
    html_url: `${base}/${i.number}`,
    url: `https://api.github.com/repos/${repo}/issues/${i.number}`,
    labels: i.labels.map((name, n) => ({ id: n + 1, name, color: 'ededed', default: false })),
    comments: i.comments.length,
  });

  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      try {
        handle();
      } catch (err) {
        state.violations.push(`${req.method} ${req.url}: the checker failed: ${(err as Error).message}`);
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: (err as Error).message }));
      }
    });
    const handle = () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        state.violations.push(`${req.method} ${url.pathname}: body is not JSON`);
        return send(400, { message: 'Problems parsing JSON' });
      }
      const { operationId, problems } = checkRequest(req.method ?? 'GET', url, req.headers, body);
      state.calls.push(operationId ?? `${req.method} ${url.pathname}`);
      if (problems.length) {
        state.violations.push(`${operationId ?? req.method} ${url.pathname}: ${problems.join('; ')}`);
        return send(400, { message: problems.join('; ') });
      }
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: 'Bad credentials' });
      if (!url.pathname.startsWith(`/repos/${repo}/`)) return send(404, { message: 'Not Found' });
      const number = Number(/\/issues\/(\d+)/.exec(url.pathname)?.[1]);
      const issue = state.issues.find((i) => i.number === number);
      const b = (body ?? {}) as { title?: string; body?: string; labels?: string[]; state?: 'open' | 'closed' };
      switch (operationId) {
        case 'issues/list-for-repo': {
          const labels = url.searchParams.get('labels')?.split(',') ?? [];
          const wanted = url.searchParams.get('state') ?? 'open';
          const perPage = Number(url.searchParams.get('per_page') ?? 30);
          const page = Number(url.searchParams.get('page') ?? 1);
          const matching = state.issues.filter((i) => labels.every((l) => i.labels.includes(l)) && (wanted === 'all' || i.state === wanted));
          return send(200, matching.slice((page - 1) * perPage, page * perPage).map(issueJson));
        }
        case 'issues/create': {
          const created: StoredIssue = { number: state.issues.length + 1, title: String(b.title), body: b.body ?? '', state: 'open', labels: b.labels ?? [], comments: [] };
          state.issues.push(created);
          return send(201, issueJson(created));
        }
        case 'issues/update':
          if (!issue) return send(404, { message: 'Not Found' });
          Object.assign(issue, { ...(b.title !== undefined ? { title: b.title } : {}), ...(b.body !== undefined ? { body: b.body } : {}), ...(b.state ? { state: b.state } : {}) });
          return send(200, issueJson(issue));
        case 'issues/create-comment':
          if (!issue) return send(404, { message: 'Not Found' });
          issue.comments.push(String(b.body));
          return send(201, { ...example('issue-comment'), body: b.body, html_url: `${base}/${issue.number}#issuecomment-${issue.comments.length}` });
        default:
          return send(501, { message: `${operationId} is not served here` });
      }
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
