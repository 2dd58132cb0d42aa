/**
 * EndpointSlices (discovery.k8s.io/v1) as Maestro reads them, in one place: the Kubernetes deployer waits for a
 * Service's endpoints to take requests before it gives the Service weight, and the local gateway routes to exactly
 * those endpoints; both must agree on which endpoints count, or the deployer's wait does not cover the gateway's 503s.
 */
import { z } from 'zod';

/** The label the EndpointSlice controller puts on a Service's slices. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const endpointSchema = z.object({
  addresses: z.array(z.string()),
  conditions: z.object({ ready: z.boolean().nullish(), terminating: z.boolean().nullish() }).nullish(),
  targetRef: z.object({ kind: z.string().optional(), name: z.string() }).nullish(),
});
export type SliceEndpoint = z.infer<typeof endpointSchema>;

/** The fields of an EndpointSlice Maestro reads. */
export const endpointSliceSchema = z.object({
  metadata: z.object({ labels: z.record(z.string()).nullish() }),
  ports: z.array(z.object({ port: z.number().int().optional() })).nullish(),
  endpoints: z.array(endpointSchema).nullish(),
});
export type EndpointSlice = z.infer<typeof endpointSliceSchema>;

/** The Service a slice belongs to (its kubernetes.io/service-name label), if labelled. */
export const serviceOfSlice = (slice: EndpointSlice): string | undefined => slice.metadata.labels?.[SERVICE_NAME_LABEL] || undefined;

/**
 * Whether an endpoint takes new requests: ready unknown (nil) counts as ready (the API's rule: "consumers should
 * interpret the unknown state as ready"); a terminating endpoint takes none, whatever its ready condition says.
 */
export const takesRequests = (endpoint: SliceEndpoint): boolean => endpoint.conditions?.ready !== false && endpoint.conditions?.terminating !== true;

/**
 * A Service's endpoints over its slices, counted once each by address (one Pod may show in two slices for a
 * moment): how many take requests, of how many listed.
 */
export function countEndpoints(slices: readonly EndpointSlice[]): { ready: number; total: number } {
  const ready = new Set<string>();
  const all = new Set<string>();
  for (const slice of slices)
    for (const endpoint of slice.endpoints ?? [])
      for (const address of endpoint.addresses) {
        all.add(address);
        if (takesRequests(endpoint)) ready.add(address);
      }
  return { ready: ready.size, total: all.size };
}
