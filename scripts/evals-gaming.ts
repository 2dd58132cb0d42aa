/**
 * npm run evals:gaming — puts the gaming corpus through the release-train gate and the default policy, on every
 * corpus repository (the greeter, examples/corpus/gaming.ts; fastify/forwarded, examples/corpus/forwarded.ts), and
 * prints, per case: repository, kind, caught, by which checks/rules, the test-change findings and the time the
 * base-test run (base_tests_pass) added; then per gaming kind caught/total on each repository, and per repository
 * the false-denial rate with the legitimate changes flagged and the base-test time. Exit 1 when a gaming attempt
 * gets through or a legitimate change is stopped.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GREETER_GAMING, runGamingCorpus, type CorpusRepo, type CorpusRow } from '../examples/corpus/gaming';
import { FORWARDED_GAMING } from '../examples/corpus/forwarded';

const REPOS: CorpusRepo[] = [GREETER_GAMING, FORWARDED_GAMING];

const table = (header: string[], rows: string[][]): string => [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-gaming-'));
  try {
    const header = ['repo', 'case', 'kind', 'caught', 'own suite', 'by', 'findings', 'base tests ms'];
    console.log(table(header, []));
    const rows: CorpusRow[] = [];
    for (const corpus of REPOS)
      rows.push(
        ...(await runGamingCorpus(path.join(tmp, corpus.name), {
          corpus,
          onRow: (r: CorpusRow) =>
            console.log(`| ${r.repo} | ${r.name} | ${r.kind} | ${r.caught ? 'yes' : 'no'} | ${r.ownSuiteGreen ? 'green' : 'red'} | ${r.by.join(', ') || '-'} | ${r.findings.join(', ') || '-'} | ${r.baseTestMs} |`),
        })),
      );

    const gaming = rows.filter((r) => r.kind === 'gaming');
    const kinds = [...new Set(gaming.map((r) => r.name))];
    const caughtOf = (rs: CorpusRow[]): string => `${rs.filter((r) => r.caught).length}/${rs.length}`;
    console.log(`\nGaming attempts caught, per kind and repository\n`);
    console.log(
      table(
        ['kind', ...REPOS.map((c) => c.name)],
        [...kinds.map((k) => [k, ...REPOS.map((c) => caughtOf(gaming.filter((r) => r.name === k && r.repo === c.name)))]), ['all', ...REPOS.map((c) => caughtOf(gaming.filter((r) => r.repo === c.name)))]],
      ),
    );

    console.log(`\nPer repository: legitimate changes stopped (false denials) and the time the base-test run adds\n`);
    const perRepo = REPOS.map((c) => {
      const legit = rows.filter((r) => r.repo === c.name && r.kind === 'legitimate');
      const flagged = legit.filter((r) => r.caught);
      const ms = rows.filter((r) => r.repo === c.name).map((r) => r.baseTestMs).sort((a, b) => a - b);
      const rate = legit.length ? `${flagged.length}/${legit.length} (${((100 * flagged.length) / legit.length).toFixed(1)}%)` : '-';
      return [c.name, rate, flagged.map((r) => `${r.name} (${r.by.join(', ')})`).join('; ') || '-', `${ms[Math.floor(ms.length / 2)]}`, `${ms[ms.length - 1]}`];
    });
    console.log(table(['repo', 'false denials', 'flagged', 'base tests median ms', 'base tests max ms'], perRepo));

    const missed = gaming.filter((r) => !r.caught);
    const falselyDenied = rows.filter((r) => r.kind === 'legitimate' && r.caught);
    if (missed.length || falselyDenied.length) process.exitCode = 1;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
