/**
 * Why a train ended as it did, in words a person reads in ten seconds: one headline that names the
 * deciding fact, then the evidence behind it (gate verdicts with their figures and thresholds, denials
 * with evidence and fix, operator actions with identity). Pure: the dossier comes from the record.
 */
import type { TimelineEntry, TrainDossier } from './dossier';

export interface Explanation {
  trainId: string;
  headline: string;
  sections: { title: string; lines: string[] }[];
}

const OPERATOR_KINDS = new Set(['approve', 'abort', 'pause', 'resume', 'promote', 'appeal', 'gate-skipped', 'gate', 'gates-changed']);
const ROLLOUT_KINDS = new Set(['deploy', 'weight', 'gates-changed', 'gate-passed', 'gate-skipped', 'rollback', 'promote', 'waiting', 'service-free', 'restore']);

export function explainTrain(d: TrainDossier): Explanation {
  const sections: Explanation['sections'] = [];
  const add = (title: string, lines: string[]) => {
    if (lines.length > 0) sections.push({ title, lines });
  };
  const timeline = d.summary?.timeline ?? [];
  const lastDecision = d.decisions.at(-1);
  const lastEval = d.evals.at(-1);
  const lastRisk = d.risk.at(-1);

  if (lastDecision?.outcome === 'deny')
    add(
      'denied by policy',
      lastDecision.denials.map((x) => `[${x.rule}] ${x.reason}. Evidence: ${x.evidence}. Fix: ${x.fix}`),
    );
  add(
    'health gates',
    [
      ...timeline.filter((e) => e.source === 'rollout' && ROLLOUT_KINDS.has(e.kind)).map(line),
      ...(d.summary?.rollout
        ? [
            `rollout ${d.summary.rollout.outcome.replace('_', ' ')} after ${d.summary.rollout.probes} probe(s) at ${d.summary.rollout.finalWeight}%: ${d.summary.rollout.reason}` +
              (d.summary.rollout.mttrMs !== undefined ? ` (first red probe to 100% on stable: ${formatMs(d.summary.rollout.mttrMs)})` : ''),
          ]
        : []),
    ],
  );
  if (lastEval)
    add('eval gate', [
      `Eval Score ${lastEval.score.toFixed(3)} against a threshold of ${lastEval.threshold}: ${lastEval.passed ? 'passed' : 'FAILED'} (${formatMs(lastEval.durationMs)})`,
      ...lastEval.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'}  ${c.check} ${c.score.toFixed(2)}: ${c.explanation}`),
    ]);
  if (lastRisk)
    add('risk', [
      `risk ${lastRisk.score.toFixed(2)}; largest factors: ${[...lastRisk.factors]
        .sort((a, b) => b.value * b.weight - a.value * a.weight)
        .slice(0, 3)
        .map((f) => `${f.name} ${f.value.toFixed(2)} (${f.detail})`)
        .join('; ')}`,
    ]);
  add('operators', [
    ...timeline.filter((e) => e.by !== undefined && OPERATOR_KINDS.has(e.kind)).map(line),
    ...d.appeals.map(
      (a) =>
        `appeal ${a.id} by ${a.appellant} against ${a.rules.join(', ')} ("${a.reason}"): ${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ''}${a.decisionReason ? ` ("${a.decisionReason}")` : ''}`,
    ),
  ]);
  add(
    'stages',
    d.stages.map((s) => `${s.name.padEnd(16)} ${s.finishedAt ? formatMs(Date.parse(s.finishedAt) - Date.parse(s.startedAt)) : 'running'}${s.detail ? `  ${s.detail}` : ''}`),
  );
  const costUsd = d.costs.reduce((sum, c) => sum + c.costUsd, 0);
  if (d.costs.length > 0) add('cost', [`$${costUsd.toFixed(4)} in ${d.costs.length} ledger line(s)`]);
  const violated = d.audit.filter((a) => a.action === 'train.invariant-violated');
  add('invariant', violated.map((a) => `VIOLATED at ${a.at}: ${JSON.stringify(a.detail)}`));

  return { trainId: d.train.id, headline: headline(d, timeline), sections };
}

function headline(d: TrainDossier, timeline: TimelineEntry[]): string {
  const t = d.train;
  const what = `${t.id} (${t.service} → ${t.environment}, "${t.title}" by ${t.author})`;
  if (t.state === 'running') {
    const stage = [...timeline].reverse().find((e) => e.kind === 'stage')?.detail ?? d.stages.at(-1)?.name ?? 'starting';
    return `${what} is running: stage ${stage}`;
  }
  const denial = d.decisions.at(-1)?.outcome === 'deny' ? d.decisions.at(-1)?.denials[0] : undefined;
  const rollout = d.summary?.rollout;
  switch (t.outcome) {
    case 'promoted':
      return `${what} was promoted: ${rollout?.reason ?? 'all health gates passed'}${d.evals.at(-1) ? `, Eval Score ${d.evals.at(-1)!.score.toFixed(3)}` : ''}.`;
    case 'denied':
      return `${what} was denied${denial ? ` by rule ${denial.rule}: ${denial.reason}` : `: ${t.reason ?? 'no reason recorded'}`}.`;
    case 'rolled_back':
      return `${what} was rolled back: ${rollout?.reason ?? t.reason ?? 'no reason recorded'}${rollout?.mttrMs !== undefined ? ` (back on stable ${formatMs(rollout.mttrMs)} after the first red probe)` : ''}.`;
    case 'shadowed':
      return `${what} ran in shadow: ${t.reason ?? 'no report recorded'}.`;
    case 'aborted': {
      const by = [...timeline].reverse().find((e) => e.kind === 'abort');
      return `${what} was aborted${by?.by ? ` by ${by.by}` : ''}: ${t.reason ?? 'no reason recorded'}.`;
    }
    default:
      return `${what} failed: ${t.reason ?? 'no reason recorded'}.`;
  }
}

function line(e: TimelineEntry): string {
  return `${new Date(e.at).toISOString().slice(11, 23)}  ${e.kind}${e.by ? ` by ${e.by}` : ''}${e.detail ? `: ${e.detail}` : ''}`;
}

export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

export function formatExplanation(e: Explanation): string {
  // A line of several (multi-line evidence) stays inside its item.
  return [e.headline, ...e.sections.flatMap((s) => ['', `${s.title}:`, ...s.lines.map((l) => `  ${l.replace(/\n/g, '\n    ')}`)])].join('\n');
}
