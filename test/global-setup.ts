import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { TEMPORAL_CLI } from '../infra/temporal/dev-server';
import { ensureNeo4j } from '../infra/neo4j/server';
import { ensurePostgres } from '../infra/postgres/server';
import { migrate } from '../record/migrate';
import { searchAttributes } from '../workflows/messages';

interface Started {
  temporal?: TestWorkflowEnvironment;
  stops: (() => Promise<void>)[];
}

/**
 * The real servers the tests need, started once for the run: a Temporal dev server (the pinned
 * `temporal` CLI; or MAESTRO_TEST_TEMPORAL_ADDRESS), PostgreSQL and Neo4j (reused when running).
 */
export default async function globalSetup(): Promise<void> {
  // One payload codec key ring for the run (test/helpers/temporal.ts testCodec), inherited by every process the tests start.
  process.env.MAESTRO_CODEC_KEYS ||= `test-run:${randomBytes(32).toString('base64')}`;
  if (process.env.MAESTRO_SKIP_SERVERS) return;
  const started: Started = { stops: [] };
  (globalThis as { __maestroServers?: Started }).__maestroServers = started;
  const temporal = process.env.MAESTRO_TEST_TEMPORAL_ADDRESS
    ? undefined
    : TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: TEMPORAL_CLI },
          ip: '127.0.0.1',
          searchAttributes: Object.values(searchAttributes),
          extraArgs: ['--log-level', 'error'],
        },
      });
  const settled = await Promise.allSettled([temporal, ensurePostgres(), ensureNeo4j()]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Stop what did start: a failed set-up must not leave servers behind.
    await Promise.allSettled(
      settled.map((r) => (r.status !== 'fulfilled' || !r.value ? undefined : 'teardown' in r.value ? r.value.teardown() : r.value.started ? r.value.stop() : undefined)),
    );
    throw failed.reason;
  }
  const [env, postgres, neo4j] = settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    TestWorkflowEnvironment | undefined,
    Awaited<ReturnType<typeof ensurePostgres>>,
    Awaited<ReturnType<typeof ensureNeo4j>>,
  ];
  if (env) {
    started.temporal = env;
    process.env.MAESTRO_TEST_TEMPORAL_ADDRESS = env.address;
  }
  if (postgres.started) started.stops.push(postgres.stop);
  await migrate(postgres.url);
  if (neo4j.started) started.stops.push(neo4j.stop);
  console.log(`\nservers: Temporal ${process.env.MAESTRO_TEST_TEMPORAL_ADDRESS}, PostgreSQL ${postgres.started ? 'started' : 'reused'}, Neo4j ${neo4j.uri} ${neo4j.started ? 'started' : 'reused'}`);
}
