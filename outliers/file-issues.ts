/**
 * The outlier analyzer: finds eval-score degradations and failed rollouts in the record (core/anomalies.ts)
 * and files one issue per anomaly: a markdown file with a repro bundle next to it, and an audit event in
 * the record, and, when configured, a GitHub issue (outliers/github-issues.ts). The same anomaly found again
 * updates its issue (the trains it was seen in), never a second one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findEvalDegradations, findFailedRollouts, type Anomaly } from '../core/anomalies';
import type { TrainDossier } from '../core/dossier';
import { explainTrain, formatExplanation } from '../core/explain';
import type { RecordStore } from '../record/store';
import type { GitHubIssueSink, SyncedIssue } from './github-issues';

export interface FileIssuesDeps {
  record: RecordStore;
  /** Where issues go: one folder per anomaly, `issue.md` and its repro bundle. */
  dir: string;
  /** A train's workflow history as JSON (Temporal's export), when Temporal is reachable. */
  history?: (workflowId: string) => Promise<string | undefined>;
  /** Also file on GitHub Issues (outliers/github-issues.ts); the folder stays the local copy. */
  github?: GitHubIssueSink;
  /**
   * The eval harness's artifacts (`<state>/artifacts/evals`, one folder per change id): the harness's
   * `eval-score.md` shows every scenario of the latest train with its checks, beside the figures in the record.
   */
  evalArtifacts?: string;
  /** Where SpecSynth keeps each change's spec (`<dir>/<change id>/spec.json`, `spec.md`): copied into the bundle. */
  specArtifacts?: string;
}

export interface FiledIssue {
  key: string;
  file: string;
  /** filed: new; updated: seen in a train it had not listed; unchanged: nothing new. */
  status: 'filed' | 'updated' | 'unchanged';
  title: string;
  /** The GitHub issue, when the GitHub sink is configured. */
  github?: SyncedIssue;
}

interface IssueState {
  key: string;
  title: string;
  firstSeen: string;
  trainIds: string[];
}

const slug = (key: string) => key.replace(/[^A-Za-z0-9._-]+/g, '_');

export async function fileIssues(deps: FileIssuesDeps, period: { since: Date; until: Date }): Promise<FiledIssue[]> {
  const [points, trains] = await Promise.all([deps.record.evalPoints(period), deps.record.listTrains({ ...period, limit: 10_000 })]);
  const anomalies = [...findEvalDegradations(points), ...findFailedRollouts(trains)];
  const filed: FiledIssue[] = [];
  for (const anomaly of anomalies) filed.push(await fileOne(deps, anomaly));
  return filed;
}

async function fileOne(deps: FileIssuesDeps, anomaly: Anomaly): Promise<FiledIssue> {
  const folder = path.join(deps.dir, slug(anomaly.key));
  const stateFile = path.join(folder, 'state.json');
  const previous = fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as IssueState) : undefined;
  const trainIds = [...new Set([...(previous?.trainIds ?? []), ...anomaly.trainIds])];
  const status: FiledIssue['status'] = !previous ? 'filed' : trainIds.length > previous.trainIds.length ? 'updated' : 'unchanged';
  const file = path.join(folder, 'issue.md');
  const toGitHub = async (body: string) => deps.github && { github: await deps.github.sync({ key: anomaly.key, kind: anomaly.kind, title: anomaly.title, body, trainIds }) };
  // Unchanged here may still be missing there (the sink was configured later): GitHub's own state decides.
  if (status === 'unchanged') return { key: anomaly.key, file, status, title: previous!.title, ...(await toGitHub(fs.readFileSync(file, 'utf8'))) };

  const reproduce = anomaly.trainIds.at(-1)!;
  const dossier = await deps.record.trainDossier({ trainId: reproduce });
  const bundle = path.join(folder, 'bundle');
  fs.mkdirSync(bundle, { recursive: true });
  const changeRequest = (await deps.record.changeRequestOf({ trainId: reproduce })) as { change?: { kind?: string; diff?: string; ref?: string }; repo?: string };
  const write = (name: string, content: string) => fs.writeFileSync(path.join(bundle, name), content);
  write('change-request.json', `${JSON.stringify(changeRequest, null, 2)}\n`);
  write('diff.patch', changeRequest.change?.kind === 'patch' ? (changeRequest.change.diff ?? '') : `# the change is the ref ${changeRequest.change?.ref ?? '?'} in ${changeRequest.repo ?? '?'}\n`);
  write('eval-report.json', `${JSON.stringify(dossier.evals, null, 2)}\n`);
  write('gate.json', `${JSON.stringify({ rollout: dossier.summary?.rollout ?? null, timeline: dossier.summary?.timeline.filter((e) => e.source === 'rollout') ?? [] }, null, 2)}\n`);
  write('explain.txt', `${formatExplanation(explainTrain(dossier))}\n`);
  const history = await deps.history?.(reproduce).catch(() => undefined);
  if (history) write('history.json', history);
  const scenarioTable = deps.evalArtifacts ? readIfExists(path.join(deps.evalArtifacts, dossier.train.changeId, 'eval-score.md')) : undefined;
  if (scenarioTable) write('eval-scenarios.md', scenarioTable);
  const specs = ['spec.json', 'spec.md'].flatMap((name) => {
    const content = deps.specArtifacts ? readIfExists(path.join(deps.specArtifacts, dossier.train.changeId, name)) : undefined;
    if (content === undefined) return [];
    write(name, content);
    return [name];
  });

  const state: IssueState = { key: anomaly.key, title: anomaly.title, firstSeen: previous?.firstSeen ?? new Date().toISOString(), trainIds };
  const markdown = issueMarkdown(anomaly, state, dossier, Boolean(history), scenarioTable, specs);
  fs.writeFileSync(file, markdown);
  const github = await toGitHub(markdown);
  // Written last: an interrupted filing is done again on the next run.
  fs.writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  await deps.record.recordAudit({
    key: `anomaly/${anomaly.key}/${trainIds.length}`,
    trainId: reproduce,
    actor: 'maestro-analyzer',
    action: status === 'filed' ? 'anomaly.filed' : 'anomaly.updated',
    detail: { key: anomaly.key, title: anomaly.title, trainIds, issue: file, ...(github ? { githubIssue: github.github.url } : {}) },
  });
  return { key: anomaly.key, file, status, title: anomaly.title, ...github };
}

function readIfExists(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

/** The harness's tile starts with its own `###` title; under the issue's `##` heading it is demoted one level. */
const demoted = (markdown: string) => markdown.replace(/^### /m, '#### ');

function issueMarkdown(anomaly: Anomaly, state: IssueState, d: TrainDossier, withHistory: boolean, scenarioTable: string | undefined, specs: string[]): string {
  const t = d.train;
  const cr = `bundle/change-request.json`;
  return `# ${anomaly.title}

- kind: ${anomaly.kind}
- service: ${anomaly.service}
- key: \`${anomaly.key}\` (the analyzer updates this issue when it finds the anomaly again)
- first seen: ${state.firstSeen}; trains: ${state.trainIds.join(', ')}

## Evidence
${anomaly.evidence.map((e) => `- ${e.replace(/\n/g, '\n  ')}`).join('\n')}

${scenarioTable ? `## Eval scenarios of the latest train (${t.id})\n${demoted(scenarioTable).trim()}\n\n` : ''}## Why the latest train ended as it did
\`\`\`
${formatExplanation(explainTrain(d))}
\`\`\`

## Repro bundle (\`bundle/\`)
- \`change-request.json\`: the change request of ${t.id}, as recorded
- \`diff.patch\`: the change
${specs.length ? `- ${specs.map((s) => `\`${s}\``).join(', ')}: the spec SpecSynth wrote for it\n` : '- no spec: SpecSynth kept none for this change\n'}- \`eval-report.json\`: every eval result with its checks
- \`gate.json\`: the rollout's figures and timeline
- \`explain.txt\`: the explanation above
${scenarioTable ? '- `eval-scenarios.md`: every eval scenario of the latest train with its score and checks (the harness\'s Eval Score tile)\n' : ''}${withHistory ? '- `history.json`: the workflow history (Temporal JSON export; payloads encrypted with the worker\'s keys)\n' : '- no workflow history: Temporal was not reachable when this was filed\n'}
## Reproduce locally
\`\`\`
bin/maestro explain ${t.id}
bin/maestro evals run --repo ${t.repo} --candidate ${t.candidateSha ?? '<candidate sha>'}
# the same change again, under a new id:
jq '.id += "-repro"' ${cr} > /tmp/repro.json && bin/maestro release start /tmp/repro.json --wait
temporal workflow show --workflow-id ${t.id} --output json
\`\`\`
`;
}
