/**
 * The tripwire (issue 11): a hard failure of the canary — a burst of 5xx answers or the canary not
 * answering at all — ends the rollout at once instead of at the gate's next probe. The proxy sees
 * every canary request, so it decides; the rollout waits on a watcher activity that returns the trip.
 */
import { z } from 'zod';
import { durationMs } from './durations';

export const tripwireSchema = z
  .object({
    /** Canary errors (5xx, refused or reset connections, timeouts) within `withinMs` that trip it… */
    errors: z.number().int().min(2).max(10_000).default(3),
    withinMs: durationMs.default(2000),
    /** …provided they are at least this share of the canary's requests in that span (not one bad client). */
    minErrorRatio: z.number().gt(0).max(1).default(0.1),
    /** Consecutive canary requests that got no answer at all (connection refused/reset): the canary is down. */
    unreachableAfter: z.number().int().min(1).max(1000).default(3),
  })
  .strict();

export type TripwireInput = z.input<typeof tripwireSchema>;
export type Tripwire = z.output<typeof tripwireSchema>;

/** What the proxy saw when it tripped. */
export interface Trip {
  /** Epoch ms of the canary request that tripped it. */
  at: number;
  kind: 'error-burst' | 'unreachable';
  /** Canary errors and requests in the span that tripped it. */
  errors: number;
  requests: number;
  words: string;
}

/** One finished canary request as the proxy records it for the tripwire. */
export interface CanaryOutcome {
  at: number;
  /** 5xx or no answer. */
  error: boolean;
  /** No answer at all: connection refused or reset before a response. */
  unreachable: boolean;
}

/**
 * Whether the canary's outcomes (oldest first) from `since` on trip the wire. Pure, so the proxy and
 * the tests decide the same way; it reads backwards from the newest and stops at the span's start.
 */
export function checkTrip(outcomes: readonly CanaryOutcome[], tripwire: Tripwire, since = 0): Trip | null {
  const last = outcomes[outcomes.length - 1];
  if (!last || last.at < since) return null;
  const counted = (i: number) => i >= 0 && outcomes[i]!.at >= since;
  let unreachable = 0;
  for (let i = outcomes.length - 1; counted(i) && outcomes[i]!.unreachable; i--) unreachable++;
  if (unreachable >= tripwire.unreachableAfter)
    return { at: last.at, kind: 'unreachable', errors: unreachable, requests: unreachable, words: `canary unreachable: ${unreachable} requests in a row got no answer` };
  if (!last.error) return null;
  let errors = 0;
  let requests = 0;
  for (let i = outcomes.length - 1; counted(i) && last.at - outcomes[i]!.at <= tripwire.withinMs; i--) {
    requests++;
    if (outcomes[i]!.error) errors++;
  }
  if (errors >= tripwire.errors && errors / requests >= tripwire.minErrorRatio)
    return {
      at: last.at,
      kind: 'error-burst',
      errors,
      requests,
      words: `canary error burst: ${errors} of ${requests} requests failed within ${tripwire.withinMs} ms (trips at ${tripwire.errors} and ${Math.round(tripwire.minErrorRatio * 100)}%)`,
    };
  return null;
}
