/**
 * The outlier analyzer's GitHub Issues sink: one issue per anomaly in a repository, through GitHub's REST
 * API (`issues/list-for-repo`, `issues/create`, `issues/update`, `issues/create-comment`, API version
 * 2022-11-28). Deduplicated by GitHub's own state, not ours: every issue it files carries the label
 * `maestro-anomaly` and a hidden marker with the anomaly's key and the trains it lists, so a second
 * analyzer (or one that lost its state dir) finds the issue again. Seen in new trains, the issue is
 * edited (body, reopened) and gets a comment naming the new trains; seen in no new train, nothing is sent.
 */
import { z } from 'zod';
import { PermanentError, TransientError } from '../core/errors';
import { parseOrThrow } from '../core/validation';

export const ANOMALY_LABEL = 'maestro-anomaly';
const API_VERSION = '2022-11-28';

export const githubSinkConfigSchema = z.object({
  /** `owner/name` */
  repo: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "owner/name, e.g. 'acme/greeter'"),
  token: z.string().min(1, 'is required (MAESTRO_GITHUB_TOKEN: a token that may write issues)'),
  apiUrl: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'an http(s) URL')
    .default('https://api.github.com'),
});
export type GitHubSinkConfigInput = z.input<typeof githubSinkConfigSchema>;

export class GitHubRejectedError extends PermanentError {
  constructor(message: string) {
    super(message, 'GitHubRejected');
  }
}
export class GitHubUnavailableError extends TransientError {
  constructor(message: string) {
    super(message, 'GitHubUnavailable');
  }
}

export interface AnomalyIssue {
  key: string;
  kind: string;
  title: string;
  /** Markdown; the marker is appended here. */
  body: string;
  /** Every train the anomaly was seen in, oldest first. */
  trainIds: string[];
}

export interface SyncedIssue {
  number: number;
  url: string;
  action: 'created' | 'updated' | 'unchanged';
}

const issueSchema = z.object({ number: z.number().int(), html_url: z.string(), body: z.string().nullable().optional(), pull_request: z.unknown().optional() });
type GitHubIssue = z.infer<typeof issueSchema>;

const MARKER = /<!-- maestro-anomaly key=(\S+) trains=(\S*) -->/;
export const anomalyMarker = (key: string, trainIds: readonly string[]) => `<!-- maestro-anomaly key=${encodeURIComponent(key)} trains=${trainIds.map(encodeURIComponent).join(',')} -->`;

/** The key and trains an issue's marker names; undefined for an issue without one. */
export function readMarker(body: string | null | undefined): { key: string; trainIds: string[] } | undefined {
  const m = MARKER.exec(body ?? '');
  return m ? { key: decodeURIComponent(m[1]!), trainIds: m[2] ? m[2].split(',').map(decodeURIComponent) : [] } : undefined;
}

export class GitHubIssueSink {
  private readonly config: z.output<typeof githubSinkConfigSchema>;
  /** The repository's anomaly issues by key, read once per sink. */
  private known?: Promise<Map<string, GitHubIssue>>;

  constructor(config: GitHubSinkConfigInput) {
    this.config = parseOrThrow(githubSinkConfigSchema, config, 'GitHub issues sink configuration');
  }

  get repo(): string {
    return this.config.repo;
  }

  /** Files the anomaly's issue, or updates the one it has when it was seen in trains the issue does not list. */
  async sync(issue: AnomalyIssue): Promise<SyncedIssue> {
    const known = await (this.known ??= this.listAnomalyIssues());
    const existing = known.get(issue.key);
    const body = `${issue.body.trimEnd()}\n\n${anomalyMarker(issue.key, issue.trainIds)}\n`;
    if (!existing) {
      const created = issueSchema.parse(await this.request('POST', `/repos/${this.config.repo}/issues`, { title: issue.title, body, labels: [ANOMALY_LABEL, issue.kind] }));
      known.set(issue.key, { ...created, body });
      return { number: created.number, url: created.html_url, action: 'created' };
    }
    const listed = new Set(readMarker(existing.body)?.trainIds ?? []);
    const newTrains = issue.trainIds.filter((t) => !listed.has(t));
    if (newTrains.length === 0) return { number: existing.number, url: existing.html_url, action: 'unchanged' };
    await this.request('PATCH', `/repos/${this.config.repo}/issues/${existing.number}`, { title: issue.title, body, state: 'open' });
    await this.request('POST', `/repos/${this.config.repo}/issues/${existing.number}/comments`, {
      body: `Seen again in ${newTrains.map((t) => `\`${t}\``).join(', ')} (${issue.trainIds.length} train${issue.trainIds.length === 1 ? '' : 's'} in all). The description is updated with the latest train's evidence and repro commands.`,
    });
    known.set(issue.key, { ...existing, body });
    return { number: existing.number, url: existing.html_url, action: 'updated' };
  }

  /** Every issue with the anomaly label, open or closed (pull requests aside), by the key in its marker. */
  private async listAnomalyIssues(): Promise<Map<string, GitHubIssue>> {
    const byKey = new Map<string, GitHubIssue>();
    for (let page = 1; ; page++) {
      const query = new URLSearchParams({ labels: ANOMALY_LABEL, state: 'all', per_page: '100', page: String(page) });
      const issues = z.array(issueSchema).parse(await this.request('GET', `/repos/${this.config.repo}/issues?${query}`));
      for (const i of issues) {
        const marker = readMarker(i.body);
        if (marker && !i.pull_request && !byKey.has(marker.key)) byKey.set(marker.key, i);
      }
      if (issues.length < 100) return byKey;
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.config.apiUrl.replace(/\/+$/, '')}${path}`;
    const where = `${method} ${path.split('?')[0]}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${this.config.token}`,
          'x-github-api-version': API_VERSION,
          'user-agent': 'maestro-conductor',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
        redirect: 'error',
      });
      text = await res.text();
    } catch (err) {
      throw new GitHubUnavailableError(`GitHub (${this.config.apiUrl}) ${where}: ${(err as Error).message}`);
    }
    const detail = text.split(this.config.token).join('[redacted]').replace(/\s+/g, ' ').slice(0, 300);
    if (res.status >= 500 || res.status === 429 || (res.status === 403 && res.headers.get('x-ratelimit-remaining') === '0'))
      throw new GitHubUnavailableError(`GitHub ${where} answered HTTP ${res.status}: ${detail}`);
    if (!res.ok) throw new GitHubRejectedError(`GitHub ${where} answered HTTP ${res.status}: ${detail} (check MAESTRO_GITHUB_TOKEN may write issues of ${this.config.repo})`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new GitHubRejectedError(`GitHub ${where} answered with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
    }
  }
}
