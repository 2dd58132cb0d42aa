/** Delivery activities: thin Temporal-facing wrappers over the deployer, heartbeating while it works. */
import type { ProbeSample } from '../core/health';
import type { DeployCanaryInput, DeployCanaryResult, DeployerFor, EnsureStableInput, InEnvironment, EnsureStableResult, HealthSource, LeaseInput, OwnedRef, ProbeInput, PromoteResult, RollbackResult, ServiceLease, SetWeightInput } from '../core/delivery';
import type { Trip, TripwireInput } from '../core/tripwire';
import { DeliveryInputError, ServiceBusyError, checkWeight } from '../delivery/local-deployer';
import { currentActivityContext, isWorkflowRunningViaWorker, withHeartbeats } from './context';

export interface DeliveryDeps {
  deployerFor: DeployerFor;
  /** Where the gates' figures come from, per environment; default the environment's deployer (the proxy's per-version figures). */
  healthSourceFor?: (environment: NonNullable<InEnvironment['environment']>) => HealthSource;
  /** Whether a train (workflow id) is still running; by default asked of Temporal through the worker's client. */
  isTrainRunning?: (workflowId: string) => Promise<boolean>;
}

/** Outside an activity (no client) a holder is assumed to be running, so nothing is taken from it. */
const isRunningInTemporal = async (workflowId: string) => (await isWorkflowRunningViaWorker(workflowId)) ?? true;

const HEARTBEAT_EVERY_MS = 1000;
/** One tripwire long-poll: short enough that a cancelled watcher ends within it. */
const TRIP_POLL_MS = 2000;

export function createDeliveryActivities(deps: DeliveryDeps) {
  const isTrainRunning = deps.isTrainRunning ?? isRunningInTemporal;
  const deployerOf = (input: InEnvironment) => deps.deployerFor(input.environment ?? 'dev');
  const healthSourceOf = (input: InEnvironment) => deps.healthSourceFor?.(input.environment ?? 'dev') ?? deployerOf(input);

  /** The input's deployer, once it knows the service. */
  const knownService = async (input: { service: string } & InEnvironment) => {
    const deployer = deployerOf(input);
    if (!(await deployer.hasService(input.service)))
      throw new DeliveryInputError(`unknown service '${input.service}': no deployment recorded${input.environment && input.environment !== 'dev' ? ` in ${input.environment}` : ''}`);
    return deployer;
  };

  return {
    async deployCanary(input: DeployCanaryInput & InEnvironment): Promise<DeployCanaryResult> {
      return asActivity('deployCanary', () => deployerOf(input).deployCanary(input));
    },

    /**
     * The service's lease for this train. A holder that is no longer running (terminated, or failed without
     * giving it back) loses it to the caller, and its canary is rolled back; a running one makes the call
     * fail with ServiceBusy.
     */
    async acquireServiceLease(input: LeaseInput & InEnvironment): Promise<ServiceLease & { tookOverFrom?: string }> {
      return asActivity('acquireServiceLease', async () => {
        const deployer = deployerOf(input);
        try {
          return await deployer.acquireLease({ service: input.service, owner: input.owner });
        } catch (err) {
          if (!(err instanceof ServiceBusyError)) throw err;
          const holder = (err.details as { holder: string }).holder;
          if (await isTrainRunning(holder)) throw err;
          const lease = await deployer.acquireLease({ service: input.service, owner: input.owner, replacing: holder });
          // The ended holder's canary must not keep taking traffic: all of it goes back to stable.
          if (await deployer.hasService(input.service)) await deployer.rollback({ service: input.service, owner: holder });
          return { ...lease, tookOverFrom: holder };
        }
      });
    },

    /** Puts `sha` back as the stable version (100% of traffic): the compensation for a promotion that could not be completed. */
    async restoreStable(input: EnsureStableInput & InEnvironment): Promise<EnsureStableResult> {
      return asActivity('restoreStable', () => deployerOf(input).ensureStable(input));
    },

    async releaseServiceLease(input: LeaseInput & InEnvironment): Promise<{ released: boolean }> {
      return asActivity('releaseServiceLease', () => deployerOf(input).releaseLease(input));
    },

    async setCanaryWeight(input: SetWeightInput & InEnvironment): Promise<{ weight: number }> {
      return asActivity('setCanaryWeight', async () => {
        checkWeight(input.weight);
        return (await knownService(input)).setWeight(input);
      });
    },

    async probeHealth(input: ProbeInput & InEnvironment): Promise<ProbeSample> {
      return asActivity('probeHealth', async () => {
        await knownService(input);
        return healthSourceOf(input).probe(input);
      });
    },

    /**
     * The tripwire's watcher: waits (long-polling the proxy, heartbeating) until the canary fails hard
     * and returns the trip; runs until then or until the rollout cancels it.
     */
    async watchCanary(input: OwnedRef & InEnvironment & { tripwire: TripwireInput }): Promise<Trip> {
      return asActivity('watchCanary', async () => {
        const deployer = await knownService(input);
        const cancelled = currentActivityContext()?.cancellationSignal;
        const since = Date.now();
        for (;;) {
          if (cancelled?.aborted) throw cancelled.reason;
          const trip = await deployer.awaitTrip({ service: input.service, tripwire: input.tripwire, since, waitMs: TRIP_POLL_MS });
          if (trip) return trip;
        }
      });
    },

    async rollbackCanary(input: OwnedRef & InEnvironment): Promise<RollbackResult> {
      return asActivity('rollbackCanary', async () => (await knownService(input)).rollback(input));
    },

    async promoteCanary(input: OwnedRef & InEnvironment): Promise<PromoteResult> {
      return asActivity('promoteCanary', async () => (await knownService(input)).promote(input));
    },
  };
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

/** Heartbeats while the work runs (only inside an activity). */
function asActivity<T>(name: string, work: () => Promise<T>): Promise<T> {
  return withHeartbeats(() => ({ activity: name }), HEARTBEAT_EVERY_MS, work);
}
