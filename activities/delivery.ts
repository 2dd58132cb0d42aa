/** Delivery activities: thin Temporal-facing wrappers over the deployer, heartbeating while it works. */
import type { ProbeSample } from '../core/health';
import type { DeployCanaryInput, DeployCanaryResult, Deployer, EnsureStableInput, EnsureStableResult, HealthSource, LeaseInput, OwnedRef, ProbeInput, PromoteResult, RollbackResult, ServiceLease, SetWeightInput } from '../core/delivery';
import type { Trip, TripwireInput } from '../core/tripwire';
import { DeliveryInputError, ServiceBusyError, checkWeight } from '../delivery/local-deployer';
import { currentActivityContext, isWorkflowRunningViaWorker, withHeartbeats } from './context';

export interface DeliveryDeps {
  deployer: Deployer;
  /** Where the gates' figures come from; default the deployer's own (the proxy's per-version figures). */
  healthSource?: HealthSource;
  /** Whether a train (workflow id) is still running; by default asked of Temporal through the worker's client. */
  isTrainRunning?: (workflowId: string) => Promise<boolean>;
}

/** Outside an activity (no client) a holder is assumed to be running, so nothing is taken from it. */
const isRunningInTemporal = async (workflowId: string) => (await isWorkflowRunningViaWorker(workflowId)) ?? true;

const HEARTBEAT_EVERY_MS = 1000;
/** One tripwire long-poll: short enough that a cancelled watcher ends within it. */
const TRIP_POLL_MS = 2000;

export function createDeliveryActivities(deps: DeliveryDeps) {
  const { deployer } = deps;
  const healthSource = deps.healthSource ?? deployer;
  const isTrainRunning = deps.isTrainRunning ?? isRunningInTemporal;

  const requireKnownService = async (service: string) => {
    if (!(await deployer.hasService(service))) throw new DeliveryInputError(`unknown service '${service}': no deployment recorded`);
  };

  return {
    async deployCanary(input: DeployCanaryInput): Promise<DeployCanaryResult> {
      return asActivity('deployCanary', () => deployer.deployCanary(input));
    },

    /**
     * The service's lease for this train. A holder that is no longer running (terminated, or failed without
     * giving it back) loses it to the caller, and its canary is rolled back; a running one makes the call
     * fail with ServiceBusy.
     */
    async acquireServiceLease(input: LeaseInput): Promise<ServiceLease & { tookOverFrom?: string }> {
      return asActivity('acquireServiceLease', async () => {
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
    async restoreStable(input: EnsureStableInput): Promise<EnsureStableResult> {
      return asActivity('restoreStable', () => deployer.ensureStable(input));
    },

    async releaseServiceLease(input: LeaseInput): Promise<{ released: boolean }> {
      return asActivity('releaseServiceLease', () => deployer.releaseLease(input));
    },

    async setCanaryWeight(input: SetWeightInput): Promise<{ weight: number }> {
      return asActivity('setCanaryWeight', async () => {
        checkWeight(input.weight);
        await requireKnownService(input.service);
        return deployer.setWeight(input);
      });
    },

    async probeHealth(input: ProbeInput): Promise<ProbeSample> {
      return asActivity('probeHealth', async () => {
        await requireKnownService(input.service);
        return healthSource.probe(input);
      });
    },

    /**
     * The tripwire's watcher: waits (long-polling the proxy, heartbeating) until the canary fails hard
     * and returns the trip; runs until then or until the rollout cancels it.
     */
    async watchCanary(input: OwnedRef & { tripwire: TripwireInput }): Promise<Trip> {
      return asActivity('watchCanary', async () => {
        await requireKnownService(input.service);
        const cancelled = currentActivityContext()?.cancellationSignal;
        const since = Date.now();
        for (;;) {
          if (cancelled?.aborted) throw cancelled.reason;
          const trip = await deployer.awaitTrip({ service: input.service, tripwire: input.tripwire, since, waitMs: TRIP_POLL_MS });
          if (trip) return trip;
        }
      });
    },

    async rollbackCanary(input: OwnedRef): Promise<RollbackResult> {
      return asActivity('rollbackCanary', async () => {
        await requireKnownService(input.service);
        return deployer.rollback(input);
      });
    },

    async promoteCanary(input: OwnedRef): Promise<PromoteResult> {
      return asActivity('promoteCanary', async () => {
        await requireKnownService(input.service);
        return deployer.promote(input);
      });
    },
  };
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

/** Heartbeats while the work runs (only inside an activity). */
function asActivity<T>(name: string, work: () => Promise<T>): Promise<T> {
  return withHeartbeats(() => ({ activity: name }), HEARTBEAT_EVERY_MS, work);
}
