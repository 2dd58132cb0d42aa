/**
 * How one Service's traffic is told apart by version when the Service fronts several of them (Argo Rollouts' basic
 * canary: one Service over the stable and the canary Pods): by the workload that owns the Pod that served each
 * request, the Pod's controller (a ReplicaSet), as a service mesh labels its series by destination workload. The
 * local gateway (delivery/local-gateway.ts) labels a plain Service's series with this address and the Argo Rollouts
 * deployer reports each version's route as it, so the gates (delivery/prometheus-health.ts) find each version's
 * figures as they find those of a Service per version. It is a label, not a DNS name that anything resolves.
 */

export interface WorkloadAddressInput {
  /** The Pods' controller, e.g. ReplicaSet `greeter-5d9c8b7f4`. */
  workload: string;
  /** The Service in front of them. */
  service: string;
  namespace: string;
  /** The endpoints' (the container's) port. */
  port: number;
}

/** `http://<workload>.<service>.<namespace>.svc.cluster.local:<port>`. */
export function workloadAddress(input: WorkloadAddressInput): string {
  return `http://${input.workload}.${input.service}.${input.namespace}.svc.cluster.local:${input.port}`;
}
