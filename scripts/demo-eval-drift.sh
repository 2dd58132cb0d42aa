#!/usr/bin/env bash
# The injected eval-score regression, end to end: real trains of the demo greeter (cli/demo-eval-drift.ts: 8 that
# pass the evals, then 3 of a change the scenario greeter.validation@v1 fails), then the outlier analyzer twice
# (the second run must file nothing new) and the KPIs. Exit 1 when a train ends otherwise than expected, when the
# first analysis does not report exactly one eval degradation, or when the second files or updates anything.
# MAESTRO_SKIP_SETUP=1 skips scripts/setup.sh (already run); arguments go to 'maestro demo --eval-drift'.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${MAESTRO_SKIP_SETUP:-}" ] || bash scripts/setup.sh
started=$(date +%s)
bin/maestro demo --eval-drift "$@"

out=$(mktemp -d)
echo
echo "== bin/maestro analyze (first run) =="
bin/maestro analyze | tee "$out/first.txt"
echo
echo "== bin/maestro analyze (second run, same record: nothing new to file) =="
bin/maestro analyze | tee "$out/second.txt"
echo
echo "== bin/maestro kpi =="
bin/maestro kpi

# Lines of the analyzer: "  <filed|updated|unchanged> <title>" then "            <issue.md path>".
degraded=$(grep -cE '^  (filed|updated|unchanged) +eval_score of greeter degraded' "$out/first.txt" || true)
other_degraded=$(grep -E '^  (filed|updated|unchanged) ' "$out/first.txt" | grep ' degraded: ' | grep -vc 'eval_score of greeter degraded' || true)
rollouts=$(grep -cE '^  (filed|updated|unchanged) +greeter: train .* rolled back' "$out/first.txt" || true)
again=$(grep -cE '^  (filed|updated) ' "$out/second.txt" || true)
issue=$(grep -A1 -E '^  (filed|updated|unchanged) +eval_score of greeter degraded' "$out/first.txt" | tail -1 | tr -d ' ')
echo
echo "== result =="
echo "eval degradations: ${degraded} of the greeter's Eval Score (expected 1), ${other_degraded} other (expected 0)"
echo "failed rollouts:   ${rollouts} (one per rolled-back train in the period, e.g. each 'npm run demo')"
echo "second run:        ${again} filed or updated (expected 0: no duplicates)"
echo "wall time:         $(( $(date +%s) - started )) s"
if [ -n "$issue" ] && [ -f "$issue" ]; then
  echo "issue:             $issue"
  echo "repro bundle:      $(dirname "$issue")/bundle: $(ls "$(dirname "$issue")/bundle" | tr '\n' ' ')"
  echo
  head -n 12 "$issue"
fi
[ "$degraded" = 1 ] && [ "$other_degraded" = 0 ] && [ "$again" = 0 ]
