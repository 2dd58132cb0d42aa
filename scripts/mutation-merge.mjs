#!/usr/bin/env node
/**
 * Merges Stryker incremental reports of separate runs (one module each: `npm run mutation -- --mutate <module>
 * --incrementalFile <part>.json`) into one, so a cold run can be done module by module and every finished module
 * kept. Test ids are per run, so each test is renamed to one id per (test file, test name) and every mutant's
 * coveredBy and killedBy follow. A module in a later part replaces the same module from an earlier one.
 *
 *   node scripts/mutation-merge.mjs reports/mutation/stryker-incremental.json reports/mutation/stryker-incremental.json part1.json …
 */
import { readFileSync, writeFileSync } from 'node:fs';

const [out, ...parts] = process.argv.slice(2);
if (!out || parts.length === 0) {
  console.error('usage: node scripts/mutation-merge.mjs <out.json> <incremental report>… (later reports win per module)');
  process.exit(2);
}

const merged = { files: {}, testFiles: {} };
/** `${test file}\0${test name}` → the merged id. */
const ids = new Map();
const idOf = (file, name) => {
  const key = `${file}\0${name}`;
  if (!ids.has(key)) ids.set(key, String(ids.size));
  return ids.get(key);
};

for (const part of parts) {
  let report;
  try {
    report = JSON.parse(readFileSync(part, 'utf8'));
  } catch (err) {
    console.error(`mutation-merge: cannot read ${part}: ${err.message}`);
    process.exit(1);
  }
  if (!report.files || !report.testFiles) {
    console.error(`mutation-merge: ${part} is not a Stryker incremental report (no files or testFiles)`);
    process.exit(1);
  }
  for (const key of ['schemaVersion', 'thresholds', 'projectRoot', 'config', 'framework']) if (report[key] !== undefined) merged[key] = report[key];
  const renamed = new Map();
  for (const [file, { tests, source }] of Object.entries(report.testFiles)) {
    const known = merged.testFiles[file]?.tests ?? [];
    const byName = new Map(known.map((t) => [t.name, t]));
    for (const test of tests) {
      const id = idOf(file, test.name);
      renamed.set(test.id, id);
      byName.set(test.name, { ...test, id });
    }
    merged.testFiles[file] = { ...(source !== undefined ? { source } : {}), tests: [...byName.values()] };
  }
  const rename = (list) => list?.map((id) => {
    if (!renamed.has(id)) throw new Error(`${part}: a mutant names test id ${id}, which no test file of the report holds`);
    return renamed.get(id);
  });
  for (const [file, result] of Object.entries(report.files)) {
    merged.files[file] = {
      ...result,
      mutants: result.mutants.map((m) => ({ ...m, ...(m.coveredBy ? { coveredBy: rename(m.coveredBy) } : {}), ...(m.killedBy ? { killedBy: rename(m.killedBy) } : {}) })),
    };
  }
}

writeFileSync(out, JSON.stringify(merged));
const mutants = Object.values(merged.files).reduce((n, f) => n + f.mutants.length, 0);
console.log(`mutation-merge: ${Object.keys(merged.files).length} modules, ${mutants} mutants, ${ids.size} tests in ${Object.keys(merged.testFiles).length} test files → ${out}`);
