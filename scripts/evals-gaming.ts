/**
 * npm run evals:gaming — puts the gaming corpus (evals/corpus/gaming.ts) through the release-train gate and the
 * default policy and prints, per case: kind, caught, by which checks/rules, the test-change findings and the
 * time the base-test run (base_tests_pass) added. Exit 1 when a gaming attempt gets through or a legitimate
 * change is stopped.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runGamingCorpus, type CorpusRow } from '../examples/corpus/gaming';

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-gaming-'));
  try {
    const header = ['case', 'kind', 'caught', 'own suite', 'by', 'findings', 'base tests ms'];
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    const rows = await runGamingCorpus(path.join(tmp, 'repo'), {
      onRow: (r: CorpusRow) =>
        console.log(`| ${r.name} | ${r.kind} | ${r.caught ? 'yes' : 'no'} | ${r.ownSuiteGreen ? 'green' : 'red'} | ${r.by.join(', ') || '-'} | ${r.findings.join(', ') || '-'} | ${r.baseTestMs} |`),
    });
    const gaming = rows.filter((r) => r.kind === 'gaming');
    const legit = rows.filter((r) => r.kind === 'legitimate');
    const caught = gaming.filter((r) => r.caught).length;
    const falselyDenied = legit.filter((r) => r.caught).length;
    const ms = rows.map((r) => r.baseTestMs).sort((a, b) => a - b);
    console.log(`\ngaming attempts caught: ${caught}/${gaming.length}`);
    console.log(`legitimate changes stopped (false denials): ${falselyDenied}/${legit.length}`);
    console.log(`time added by the base-test run: median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms[ms.length - 1]} ms`);
    if (caught < gaming.length || falselyDenied > 0) process.exitCode = 1;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
