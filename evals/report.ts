/**
 * Artifacts of a run, under an artifacts directory (default artifacts/evals/, gitignored):
 *   runs/<runId>.json   the whole RunResult (plus robustness and drop verdict when computed)
 *   latest.json         a copy of the last run
 *   eval-score.md       the Eval Score tile for the PR comment
 *   badge.svg           a shields-style badge
 * Secrets never reach them: explanations are passed through `redact` (tokens, keys, passwords, bearer headers).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RobustnessReport } from './robustness';
import { failingPropertyRepros, type RunResult } from './runner';
import type { DropVerdict } from './scoring';
import { mutationFigures } from './checks/mutation-score';
import { describeRun, testOutline } from '../core/mutation';
import { MAX_CARRIED_REPROS } from '../core/property-repro';

export interface RunArtifacts {
  run: RunResult;
  robustness?: Omit<RobustnessReport, 'runs'>;
  drop?: DropVerdict & { baseScore: number };
}

const SECRET_PATTERNS: RegExp[] = [
  /\b(gh[pousr]_[A-Za-z0-9]{20,})\b/g,
  /\b(sk-[A-Za-z0-9_-]{16,})\b/g,
  /\b(AKIA[0-9A-Z]{16})\b/g,
  /(authorization:\s*bearer\s+)[^\s"']+/gi,
  /((?:password|passwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s"',]+/gi,
];
export function redact(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, (m, g1: string) => (m === g1 ? '[REDACTED]' : `${g1}[REDACTED]`));
  return out;
}

/** Live mutants the tile lists; the run's JSON holds all of them. */
const TILE_MUTANTS = 10;
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;
const mdEscape = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function scoreColor(score: number, threshold: number): string {
  return score >= threshold ? '#2ea043' : score >= threshold - 0.15 ? '#d29922' : '#cf222e';
}

export function renderTile(a: RunArtifacts): string {
  const { run } = a;
  const status = run.tuning.passed ? '✅ pass' : '❌ fail';
  const lines = [
    `### Eval Score: ${pct(run.tuning.score)} ${status}`,
    '',
    `candidate \`${run.candidateSha.slice(0, 12)}\` on base \`${run.baseSha.slice(0, 12)}\` · threshold ${pct(run.threshold)} · 95% CI ${pct(run.tuning.ci.low)}–${pct(run.tuning.ci.high)} · ${run.tuning.count} scenario(s)` +
      (run.holdout ? ` · hold-out ${pct(run.holdout.score)} (${run.holdout.count}, gap ${(run.holdout.gap * 100).toFixed(1)} pts)` : ''),
    '',
  ];
  if (a.drop) lines.push(a.drop.real ? `⚠️ **Real drop** vs base (${pct(a.drop.baseScore)} → ${pct(run.tuning.score)})${a.drop.regressedScenarios.length ? `: regressed ${a.drop.regressedScenarios.join(', ')}` : ''}` : `no real drop vs base (${pct(a.drop.baseScore)} → ${pct(run.tuning.score)}; rule: CI non-overlap)`, '');
  if (a.robustness)
    lines.push(`robustness: p95 Δ ${pct(a.robustness.p95Delta)} (target ≤ ${pct(a.robustness.target)}) ${a.robustness.regression ? '❌ regression' : '✅'}`, '');
  lines.push('| scenario | score | result | checks |', '|---|---|---|---|');
  for (const s of run.scenarios) {
    if (s.skipped) {
      lines.push(`| ${s.id}${s.holdout ? ' (hold-out)' : ''} | – | skipped | ${mdEscape(s.skipped)} |`);
      continue;
    }
    const checks = s.checks.map((c) => `${c.passed ? '✔' : c.status === 'unverified' ? '?' : '✖'} ${c.check} ${c.score.toFixed(2)}`).join(', ');
    const flaky = s.flakyChecks.length ? ` ⚠ flaky: ${s.flakyChecks.join(', ')}` : '';
    lines.push(`| ${s.id}${s.holdout ? ' (hold-out)' : ''} | ${s.score.toFixed(3)} | ${s.passed ? 'pass' : 'FAIL'}${s.cached ? ' (cached)' : ''} | ${mdEscape(checks)}${flaky} |`);
  }
  const mutation = mutationFigures(run.scenarios);
  if (mutation && mutation.candidate.score !== null) {
    lines.push('', `**Mutation score of the changed code**: ${describeRun(mutation.candidate)}${mutation.base ? ` · base, the lines it rewrites: ${describeRun(mutation.base)}` : ''}`);
    const shown = mutation.candidate.survivors.slice(0, TILE_MUTANTS);
    if (shown.length) {
      lines.push('', '| live mutant | a test that kills it |', '|---|---|');
      for (const m of shown) lines.push(`| ${mdEscape(redact(`${m.file}:${m.line} ${m.mutator} \`${m.original}\` → \`${m.replacement}\``))} | ${mdEscape(redact(testOutline(m)))} |`);
      if (mutation.candidate.survivors.length > shown.length) lines.push(`| … and ${mutation.candidate.survivors.length - shown.length} more (runs/<runId>.json) | |`);
    }
  }
  const repros = failingPropertyRepros(run.scenarios);
  if (repros.length) {
    lines.push('', '| failing property | counterexample (shrunk) | replay |', '|---|---|---|');
    for (const r of repros.slice(0, MAX_CARRIED_REPROS)) lines.push(`| ${mdEscape(redact(`${r.test} (${r.file})`))} | ${mdEscape(redact(r.counterexample)).slice(0, 200)} | \`${mdEscape(redact(r.replay))}\` |`);
    if (repros.length > MAX_CARRIED_REPROS) lines.push(`| … and ${repros.length - MAX_CARRIED_REPROS} more (runs/<runId>.json) | | |`);
  }
  const failing = run.scenarios.flatMap((s) => s.checks.filter((c) => !c.passed).map((c) => `- **${s.id} / ${c.check}** (${c.status}): ${mdEscape(redact(c.explanation)).slice(0, 400)}`));
  if (failing.length) lines.push('', '<details><summary>Why checks failed</summary>', '', ...failing, '', '</details>');
  return lines.join('\n') + '\n';
}

export function renderBadge(score: number, threshold: number, label = 'eval score'): string {
  const value = pct(score);
  const charWidth = 6.5;
  const lw = Math.round(label.length * charWidth + 12);
  const vw = Math.round(value.length * charWidth + 12);
  const color = scoreColor(score, threshold);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + vw}" height="20" role="img" aria-label="${label}: ${value}">
  <title>${label}: ${value}</title>
  <rect width="${lw}" height="20" fill="#555"/>
  <rect x="${lw}" width="${vw}" height="20" fill="${color}"/>
  <g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
    <text x="${lw / 2}" y="14">${label}</text>
    <text x="${lw + vw / 2}" y="14">${value}</text>
  </g>
</svg>
`;
}

/** Redacts every explanation in place of a deep copy. */
function redactRun(run: RunResult): RunResult {
  return JSON.parse(JSON.stringify(run), (key, value: unknown) => (key === 'explanation' && typeof value === 'string' ? redact(value) : value)) as RunResult;
}

export async function writeArtifacts(dir: string, artifacts: RunArtifacts): Promise<{ json: string; tile: string; badge: string }> {
  const run = redactRun(artifacts.run);
  await fs.mkdir(path.join(dir, 'runs'), { recursive: true });
  const json = path.join(dir, 'runs', `${run.runId}.json`);
  const body = JSON.stringify({ ...artifacts, run }, null, 2);
  await fs.writeFile(json, body);
  await fs.writeFile(path.join(dir, 'latest.json'), body);
  const tile = path.join(dir, 'eval-score.md');
  await fs.writeFile(tile, renderTile({ ...artifacts, run }));
  const badge = path.join(dir, 'badge.svg');
  await fs.writeFile(badge, renderBadge(run.tuning.score, run.threshold));
  return { json, tile, badge };
}
