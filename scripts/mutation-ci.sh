#!/usr/bin/env bash
# Mutation testing for CI (issue 14, docs/architecture.md "Test strength"): an incremental Stryker run against the
# committed reports/mutation/stryker-incremental.json, so only the mutants in code or tests changed since that file
# was committed run again. Fails (exit 1) when the run's total is under thresholds.break (Stryker's own exit code),
# when any one module of stryker.config.mjs's `mutate` list scores under it, or when the incremental file is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

incremental=reports/mutation/stryker-incremental.json
if [[ ! -f $incremental ]]; then
  echo "mutation-ci: $incremental is missing: run 'npm run mutation' and commit it" >&2
  exit 1
fi
# A module the file does not hold would run cold (an hour or more for the big ones on two cores): fail fast instead.
node --input-type=module - <<'EOF'
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const picomatch = createRequire(import.meta.url)('picomatch');
const { default: config } = await import(pathToFileURL(`${process.cwd()}/stryker.config.mjs`).href);
const held = new Set(Object.keys(JSON.parse(readFileSync('reports/mutation/stryker-incremental.json', 'utf8')).files));
const mutated = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n').filter((f) => config.mutate.some((p) => picomatch(p)(f)));
const missing = mutated.filter((f) => !held.has(f));
if (missing.length > 0) {
  console.error(`mutation-ci: the incremental file holds no results for ${missing.join(', ')}: run 'npm run mutation' and commit reports/mutation/stryker-incremental.json`);
  process.exit(1);
}
EOF

started=$SECONDS
stryker_status=0
# No HTML report (nobody reads it in CI); clear-text lists the survivors in the log, JSON feeds the per-module check.
nice -n 10 npx stryker run stryker.config.mjs --reporters clear-text,json,progress-append-only || stryker_status=$?
echo "mutation-ci: stryker exited with ${stryker_status} after $((SECONDS - started)) s"
[[ -f reports/mutation/mutation.json ]] || { echo "mutation-ci: no reports/mutation/mutation.json: stryker did not finish" >&2; exit 1; }

# The break threshold per module (a module = one entry of `mutate`), since Stryker applies it to the run's total only.
module_status=0
node --input-type=module - <<'EOF' || module_status=$?
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const picomatch = createRequire(import.meta.url)('picomatch');
const { default: config } = await import(pathToFileURL(`${process.cwd()}/stryker.config.mjs`).href);
const threshold = config.thresholds.break;
const report = JSON.parse(readFileSync('reports/mutation/mutation.json', 'utf8'));
const modules = new Map(config.mutate.map((pattern) => [pattern, { killed: 0, timeout: 0, survived: 0, noCoverage: 0 }]));
const key = { Killed: 'killed', Timeout: 'timeout', Survived: 'survived', NoCoverage: 'noCoverage' };
for (const [file, { mutants }] of Object.entries(report.files)) {
  const pattern = config.mutate.find((p) => picomatch(p)(file));
  if (!pattern) continue;
  for (const { status } of mutants) if (key[status]) modules.get(pattern)[key[status]]++;
}
let failed = false;
console.log(`${'module'.padEnd(28)}  score  killed survived no-cov timeout`);
for (const [pattern, c] of modules) {
  const judged = c.killed + c.timeout + c.survived + c.noCoverage;
  const score = judged === 0 ? null : (100 * (c.killed + c.timeout)) / judged;
  const below = score !== null && score < threshold;
  failed ||= below;
  const shown = score === null ? '   n/a' : `${score.toFixed(1).padStart(5)}%`;
  console.log(`${pattern.padEnd(28)} ${shown} ${String(c.killed).padStart(7)} ${String(c.survived).padStart(8)} ${String(c.noCoverage).padStart(6)} ${String(c.timeout).padStart(7)}${below ? `  under ${threshold}%` : ''}`);
}
process.exit(failed ? 1 : 0);
EOF

if ((stryker_status != 0 || module_status != 0)); then
  echo "mutation-ci: FAILED (stryker ${stryker_status}, per-module check ${module_status}): kill the survivors listed above with better tests, or disable an equivalent mutant where it lives with its reason" >&2
  exit 1
fi
echo "mutation-ci: every module at or above the break threshold"
