import { FailureTypeInterceptor } from '../../workers/interceptors';

/**
 * Activities as the worker runs them, for tests that call them directly: each call goes through the
 * worker's activity interceptor, so library errors arrive as the same ApplicationFailures.
 */
export function asWorkerRuns<T extends object>(activities: T): T {
  const interceptor = new FailureTypeInterceptor();
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      typeof fn === 'function' ? (...args: unknown[]) => interceptor.execute({ args, headers: {} }, (input) => (fn as (...a: unknown[]) => Promise<unknown>)(...input.args)) : fn,
    ]),
  ) as T;
}
