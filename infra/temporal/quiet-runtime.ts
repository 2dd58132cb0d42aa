import { DefaultLogger, Runtime } from '@temporalio/worker';

let runtimeInstalled = false;
/** Worker and SDK logs at WARN: test and bench output shows failures, not state changes. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}
