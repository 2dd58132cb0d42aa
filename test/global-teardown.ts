import type { TestWorkflowEnvironment } from '@temporalio/testing';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as { __maestroServers?: { temporal?: TestWorkflowEnvironment; stops: (() => Promise<void>)[] } }).__maestroServers;
  if (!started) return;
  await Promise.all([started.temporal?.teardown(), ...started.stops.map((stop) => stop())]);
}
