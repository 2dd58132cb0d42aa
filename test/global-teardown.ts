import type { TestWorkflowEnvironment } from '@temporalio/testing';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __maestroTemporal?: TestWorkflowEnvironment }).__maestroTemporal?.teardown();
}
