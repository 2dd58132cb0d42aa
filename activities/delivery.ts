/** Delivery activities: thin Temporal-facing wrappers over the deployer, heartbeating while it works. */
import type { ProbeSample } from '../core/health';
import type { DeployCanaryInput, DeployCanaryResult, Deployer, OwnedRef, PromoteResult, RollbackResult, ServiceRef, SetWeightInput } from '../core/delivery';
import { DeliveryInputError, checkWeight } from '../delivery/local-deployer';
import { withHeartbeats } from './context';

export interface DeliveryDeps {
  deployer: Deployer;
}

const HEARTBEAT_EVERY_MS = 1000;

export function createDeliveryActivities(deps: DeliveryDeps) {
  const { deployer } = deps;

  const requireKnownService = async (service: string) => {
    if (!(await deployer.hasService(service))) throw new DeliveryInputError(`unknown service '${service}': no deployment recorded`);
  };

  return {
    async deployCanary(input: DeployCanaryInput): Promise<DeployCanaryResult> {
      return asActivity('deployCanary', () => deployer.deployCanary(input));
    },

    async setCanaryWeight(input: SetWeightInput): Promise<{ weight: number }> {
      return asActivity('setCanaryWeight', async () => {
        checkWeight(input.weight);
        await requireKnownService(input.service);
        return deployer.setWeight(input);
      });
    },

    async probeHealth(input: ServiceRef): Promise<ProbeSample> {
      return asActivity('probeHealth', async () => {
        await requireKnownService(input.service);
        return deployer.probe(input);
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
