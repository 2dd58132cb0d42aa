import fs from 'node:fs';
import path from 'node:path';
import { LocalDeployer } from '../delivery/local-deployer';
import { createDatabaseIfMissing, defaultPostgres, ensurePostgres, redactUrl, serverUrl } from '../infra/postgres/server';
import { createGreeterTables, GREETER_DATABASE_ENV } from '../examples/greeter-database';
import { STATE, TSX_CLI } from '../io/paths';
import { serviceDescriptorSchema } from '../core/stages';
import { createDemoRepo, DEMO_PLAN, DEMO_SERVICE, DEMO_TRAFFIC_RPS, loadExampleChange, type ExampleChangeName } from '../examples/demo-repo';
import type { TrainResult } from '../workflows/messages';
import { connectClient, workflowUiLink } from './client';
import { startTrain, waitForTrain } from './release';
import { up } from './stack';

/**
 * The denied change first: it is written against the initial greeter, which the good change moves on. The
 * last one changes the greeter's table (name → first_name + last_name) with a zero-downtime migration.
 */
const SCRIPT: { change: ExampleChangeName; expect: TrainResult['outcome'] }[] = [
  { change: 'failing-tests-change', expect: 'denied' },
  { change: 'good-change', expect: 'promoted' },
  { change: 'bad-change', expect: 'rolled_back' },
  { change: 'split-name-change', expect: 'promoted' },
];
const DEMO_PEOPLE = ['Ada Lovelace', 'Grace Hopper', 'Katherine Johnson', 'Margaret Hamilton'];

/** The demo's greeter, serving its first commit under synthetic traffic: what every demo's trains release onto. */
export interface DemoStable {
  runId: string;
  repo: string;
  baseSha: string;
  deployer: LocalDeployer;
  /** The greeter's own database (one per demo run). */
  greeterUrl: string;
  proxyUrl: string;
}

/** Starts what `maestro up` starts, makes a fresh greeter repository and database, and serves it under traffic. */
export async function startDemoStable(print: (line: string) => void, trafficMs = 15 * 60_000): Promise<DemoStable> {
  await up(print);
  const runId = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const { repo, baseSha } = await createDemoRepo(path.join(STATE.demo, runId, 'greeter'));
  print(`demo repo: ${repo} (main @ ${baseSha.slice(0, 12)})`);

  const deployer = new LocalDeployer({ stateDir: STATE.deploy, tsxCli: TSX_CLI });
  if (await deployer.hasService(DEMO_SERVICE)) await deployer.stopService({ service: DEMO_SERVICE });
  const descriptor = serviceDescriptorSchema.parse(JSON.parse(fs.readFileSync(path.join(repo, 'maestro.service.json'), 'utf8')));
  // The greeter's own database (one per demo run) on the project's PostgreSQL, its table made by its first migration.
  const postgres = await ensurePostgres();
  const greeterDb = `greeter_${runId}`;
  await createDatabaseIfMissing(serverUrl(defaultPostgres, 'postgres'), greeterDb);
  const greeterUrl = postgres.url.replace(/\/[^/?]*(\?.*)?$/, `/${greeterDb}`);
  await createGreeterTables(greeterUrl);
  const { proxyUrl } = await deployer.ensureStable({ service: DEMO_SERVICE, repo, sha: baseSha, descriptor, env: { [GREETER_DATABASE_ENV]: greeterUrl } });
  for (const name of DEMO_PEOPLE) await fetch(`${proxyUrl}/people?name=${encodeURIComponent(name)}`, { method: 'POST' });
  const peoplePaths = DEMO_PEOPLE.map((_, i) => `/people/${i + 1}`);
  await deployer.startTraffic({ service: DEMO_SERVICE, rps: DEMO_TRAFFIC_RPS, durationMs: trafficMs, paths: ['/greet?name=Ada', '/greet?name=Grace', '/greet', '/healthz', ...peoplePaths] });
  print(`stable ${baseSha.slice(0, 12)} serving at ${proxyUrl} with its table in ${redactUrl(greeterUrl)}; synthetic traffic ${DEMO_TRAFFIC_RPS} req/s`);
  return { runId, repo, baseSha, deployer, greeterUrl, proxyUrl };
}

/** Everything `maestro up` starts, then the trains of SCRIPT with their timeline and figures. */
export async function runDemo(print: (line: string) => void): Promise<number> {
  const { runId, repo, deployer, greeterUrl } = await startDemoStable(print);

  const client = await connectClient();
  const rows: string[] = [];
  let allAsExpected = true;
  try {
    for (const step of SCRIPT) {
      const loaded = loadExampleChange(step.change, repo, `${step.change}-${runId}`);
      // A change with a migration migrates the demo's greeter database.
      const migration = loaded.migration && { ...loaded.migration, databaseUrl: greeterUrl };
      const cr = { ...loaded, service: DEMO_SERVICE, rollout: DEMO_PLAN, ...(migration ? { migration } : {}) };
      const started = Date.now();
      const handle = await startTrain(client, cr as never);
      print(`\n▶ ${cr.title} (${step.change}): train ${handle.workflowId}\n  ${workflowUiLink(handle.workflowId)}`);
      const result = await waitForTrain(client, handle.workflowId, (line) => print(`  ${new Date().toISOString().slice(11, 19)} ${line}`));
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      print(`  ⇒ ${result.outcome}: ${result.reason}`);
      const ok = result.outcome === step.expect;
      allAsExpected &&= ok;
      rows.push(
        `| ${step.change} | ${result.outcome}${ok ? '' : ` (expected ${step.expect})`} | ${result.evalScore?.toFixed(2) ?? '–'} | ${result.risk?.toFixed(2) ?? '–'} | ${seconds} s | ${result.rollout?.mttrMs !== undefined ? `${(result.rollout.mttrMs / 1000).toFixed(2)} s` : '–'} |`,
      );
    }
  } finally {
    await deployer.stopTraffic({ service: DEMO_SERVICE });
    await client.connection.close();
  }
  print('\n| change | outcome | eval score | risk | train time | rollback MTTR |\n|---|---|---|---|---|---|');
  rows.forEach((r) => print(r));
  const live = await deployer.status({ service: DEMO_SERVICE });
  print(`\nnow serving: stable ${live.stable?.sha.slice(0, 12)} at ${live.proxy?.publicUrl} (canary weight ${live.weight}%). Stop everything with 'bin/maestro down'.`);
  return allAsExpected ? 0 : 1;
}
