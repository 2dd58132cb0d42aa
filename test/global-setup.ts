import { TestWorkflowEnvironment } from '@temporalio/testing';
import { TEMPORAL_CLI } from '../infra/temporal/dev-server';
import { searchAttributes } from '../workflows/messages';

/**
 * One real Temporal dev server (the pinned `temporal` CLI) for the whole run, unless
 * MAESTRO_TEST_TEMPORAL_ADDRESS points at one already running.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MAESTRO_SKIP_SERVERS || process.env.MAESTRO_TEST_TEMPORAL_ADDRESS) return;
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_CLI },
      ip: '127.0.0.1',
      searchAttributes: Object.values(searchAttributes),
      extraArgs: ['--log-level', 'error'],
    },
  });
  (globalThis as { __maestroTemporal?: TestWorkflowEnvironment }).__maestroTemporal = env;
  process.env.MAESTRO_TEST_TEMPORAL_ADDRESS = env.address;
}
