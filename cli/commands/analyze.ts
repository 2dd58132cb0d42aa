/** `maestro analyze`: the outlier analyzer over a period; files (or updates) one issue per anomaly. */
import { defineCommand, periodOptions } from '../command';
import { openRecord, recordUnreachable } from '../record';

export const command = defineCommand({
  name: 'analyze',
  usage: `usage: maestro analyze [--since 7d|24h|4w|<ISO date>] [--until <same>] [--dir <issues dir>] [--github owner/name] [--json]
  finds eval-score degradations (each series against its rolling baseline, Mann–Whitney, p < 0.01) and failed
  rollouts among the trains of the period, and files one issue per anomaly in <dir> (default <state>/issues):
  issue.md with the evidence, the explanation and the commands that reproduce it, and a repro bundle (change
  request, diff, eval report, gate figures, workflow history). Found again, an anomaly updates its issue.
  --github   also file each issue in this GitHub repository (or MAESTRO_GITHUB_REPO), with the token in
             MAESTRO_GITHUB_TOKEN (never an argument) at MAESTRO_GITHUB_API_URL (default https://api.github.com);
             found again in new trains, the issue is edited and gets a comment; one per anomaly, by its marker`,
  options: { since: { type: 'string' }, until: { type: 'string' }, dir: { type: 'string' }, github: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const period = await periodOptions(values);
    const githubRepo = values.github ?? process.env.MAESTRO_GITHUB_REPO;
    const github = githubRepo
      ? new (await import('../../outliers/github-issues')).GitHubIssueSink({
          repo: githubRepo,
          token: process.env.MAESTRO_GITHUB_TOKEN ?? '',
          ...(process.env.MAESTRO_GITHUB_API_URL ? { apiUrl: process.env.MAESTRO_GITHUB_API_URL } : {}),
        })
      : undefined;
    const [{ fileIssues }, { statePaths }, { codecSettings, tryConnectClient }, { historyToJSON }] = await Promise.all([
      import('../../outliers/file-issues'),
      import('../../io/paths'),
      import('../client'),
      import('@temporalio/common/lib/proto-utils'),
    ]);
    const state = statePaths(codecSettings().stateDir);
    const dir = values.dir ?? state.issues;
    const [{ record, databaseUrl, close }, client] = await Promise.all([openRecord(), tryConnectClient()]);
    try {
      const filed = await fileIssues(
        {
          record,
          dir,
          evalArtifacts: state.evalArtifacts,
          specArtifacts: state.specArtifacts,
          ...(github ? { github } : {}),
          ...(client ? { history: async (id: string) => historyToJSON(await client.workflow.getHandle(id).fetchHistory()) } : {}),
        },
        { since: new Date(period.since), until: new Date(period.until) },
      );
      if (values.json) io.print(JSON.stringify({ dir, issues: filed }, null, 2));
      else {
        io.print(`${filed.length} anomal${filed.length === 1 ? 'y' : 'ies'} in trains started ${new Date(period.since).toISOString()} … ${new Date(period.until).toISOString()}${client ? '' : ' (Temporal not reachable: bundles without workflow history)'}`);
        for (const f of filed) io.print(`  ${f.status.padEnd(9)} ${f.title}\n            ${f.file}${f.github ? `\n            ${f.github.url} (${f.github.action})` : ''}`);
      }
      return 0;
    } catch (err) {
      throw await recordUnreachable(err, databaseUrl);
    } finally {
      await close();
      await client?.connection.close();
    }
  },
});
