/**
 * The local cluster's pod network (infra/kubernetes/local-node.ts): this host has no network to route Pod
 * addresses, and an EndpointSlice refuses loopback ones ("may not be in the loopback range"), so each Pod is
 * given an address in 10.<n>.0.0/16 and its process listens on the same host part of 127/8, all of which is
 * loopback on Linux. Whatever reaches a Pod on this host (the node's probes, the local gateway) goes to
 * `reachPodAddress(podIP)`.
 */

/** The Pod addresses of pod network `n` (its second octet): 10.n.0.2 onwards, 65,533 of them. */
export function podAddress(network: number, index: number): string {
  if (!Number.isInteger(network) || network < 1 || network > 255) throw new RangeError(`a local pod network is 1–255 (10.<n>.0.0/16); got ${network}`);
  const host = index + 2;
  if (!Number.isInteger(index) || index < 0 || host > 65_534) throw new RangeError(`pod network 10.${network}.0.0/16 has no address number ${index}`);
  return `10.${network}.${Math.floor(host / 256)}.${host % 256}`;
}

/** Where this host reaches a Pod address of the local pod network: 10.a.b.c → 127.a.b.c; any other address as it is. */
export function reachPodAddress(address: string): string {
  return /^10\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) ? `127.${address.slice(3)}` : address;
}
