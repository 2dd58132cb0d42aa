/**
 * The risk formula. Three factors, each a value in [0, 1] with a fixed weight; the weights sum to 1,
 * so the score is in [0, 1]:
 *
 *   centrality = min(1, max over changed files f of fanIn[f] / max(1, totalFiles − 1))
 *                the share of the other files that import the most-imported file the change touches
 *   size       = s / (s + SIZE_HALF_POINT),  s = insertions + deletions + LINES_PER_FILE × changed files
 *                saturating: 0 for an empty change, 0.5 at SIZE_HALF_POINT, → 1 for huge changes
 *   protected  = 1 if any protected path is touched, else 0
 *
 *   score = 0.45·centrality + 0.25·size + 0.30·protected
 *
 * Each factor is monotone in its input, so more fan-in, a bigger change or a protected path never
 * lowers the score. core/policy.ts denies above RISK_DENY_THRESHOLD.
 */
import type { RiskFactor, RiskReport } from './stages';
import { ValidationError } from './validation';

export const RISK_WEIGHTS = { centrality: 0.45, size: 0.25, protected: 0.3 } as const;
/** Weighted change size (lines) at which the size factor is 0.5. */
export const SIZE_HALF_POINT = 200;
/** A touched file costs a reviewer about this many lines of attention, whatever its diff size. */
export const LINES_PER_FILE = 10;

export interface RiskInputs {
  changedFiles: string[];
  insertions: number;
  deletions: number;
  /** Per changed file: how many other files import it. Missing entries count as 0. */
  fanIn: Record<string, number>;
  /** Files in the scanned graph, the denominator of centrality. */
  totalFiles: number;
  protectedTouched: string[];
  /** Files the scanner could not parse; named in the centrality detail because they may hide importers. */
  unparsedFiles?: string[];
}

function checkInputs(inputs: RiskInputs): void {
  const issues: { path: string; message: string }[] = [];
  const nonNegative = (path: string, n: unknown) => {
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) issues.push({ path, message: `must be a non-negative finite number, got ${String(n)}` });
  };
  nonNegative('insertions', inputs.insertions);
  nonNegative('deletions', inputs.deletions);
  nonNegative('totalFiles', inputs.totalFiles);
  for (const [file, n] of Object.entries(inputs.fanIn)) nonNegative(`fanIn.${file}`, n);
  if (!Array.isArray(inputs.changedFiles)) issues.push({ path: 'changedFiles', message: 'must be an array of paths' });
  if (!Array.isArray(inputs.protectedTouched)) issues.push({ path: 'protectedTouched', message: 'must be an array of paths' });
  if (issues.length > 0) throw new ValidationError('risk inputs', issues);
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;
const clamp01 = (n: number): number => Math.min(1, Math.max(0, n));
const list = (items: readonly string[], max = 5): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

/** Scores a change by the formula above; throws ValidationError on negative or non-finite figures. */
export function computeRisk(inputs: RiskInputs): RiskReport {
  checkInputs(inputs);
  const changedFiles = [...new Set(inputs.changedFiles)];

  // Centrality: the single most-imported touched file decides, since breaking it breaks its importers.
  const otherFiles = Math.max(1, inputs.totalFiles - 1);
  let hub: { file: string; fanIn: number } | undefined;
  for (const file of changedFiles) {
    const fanIn = inputs.fanIn[file] ?? 0;
    if (!hub || fanIn > hub.fanIn) hub = { file, fanIn };
  }
  const centrality = clamp01((hub?.fanIn ?? 0) / otherFiles);
  const unparsed = inputs.unparsedFiles ?? [];
  const centralityDetail =
    (hub && hub.fanIn > 0
      ? `most imported changed file: ${hub.file}, imported by ${hub.fanIn} of ${inputs.totalFiles} files`
      : `no changed file is imported by another of the ${inputs.totalFiles} scanned files`) +
    (unparsed.length > 0 ? `; skipped ${unparsed.length} unparseable file(s): ${list(unparsed)}` : '');

  const weightedLines = inputs.insertions + inputs.deletions + LINES_PER_FILE * changedFiles.length;
  const size = weightedLines / (weightedLines + SIZE_HALF_POINT);

  const protectedTouched = [...new Set(inputs.protectedTouched)];
  const protectedValue = protectedTouched.length > 0 ? 1 : 0;

  const factors: RiskFactor[] = [
    { name: 'centrality', value: round(centrality), weight: RISK_WEIGHTS.centrality, detail: centralityDetail },
    {
      name: 'change size',
      value: round(size),
      weight: RISK_WEIGHTS.size,
      detail: `+${inputs.insertions} −${inputs.deletions} lines in ${changedFiles.length} file(s); saturates as s/(s+${SIZE_HALF_POINT})`,
    },
    {
      name: 'protected paths',
      value: protectedValue,
      weight: RISK_WEIGHTS.protected,
      detail: protectedTouched.length > 0 ? `touches protected path(s): ${list(protectedTouched)}` : 'no protected path touched',
    },
  ];
  // Score from the unrounded values so rounding never breaks monotonicity.
  const score = clamp01(RISK_WEIGHTS.centrality * centrality + RISK_WEIGHTS.size * size + RISK_WEIGHTS.protected * protectedValue);
  return { score: round(score), factors };
}
