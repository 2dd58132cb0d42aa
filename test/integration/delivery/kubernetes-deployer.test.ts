/**
 * The Kubernetes deployer against a real API server and controller manager (infra/kubernetes, built by
 * scripts/setup-kubernetes.sh), a namespace per test.
 *
 * No kubelet runs in this cluster, so no container starts: the test plays the kubelet's part (a Node, Pods
 * bound to it, each Pod's IP and readiness through the status subresource: test/helpers/kubernetes.ts
 * KubeletStandIn). Everything else is real: server-side apply, the HTTPRoute CRD's validation, the ReplicaSet
 * and Deployment controllers counting available replicas, the EndpointSlice controller listing the ready Pods
 * of each version's Service, RBAC, resourceVersion conflicts.
 */
import * as k8s from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { IN_CLUSTER, KubernetesDeployer, KubernetesForbiddenError, KubernetesKindMissingError, loadKubeConfig } from '../../../delivery/kubernetes-deployer';
import { ServiceBusyError, NotCanaryOwnerError } from '../../../delivery/local-deployer';
import { installCrds } from '../../../infra/kubernetes/crds';
import { KubeletStandIn, createNamespace, kubeConfig, startTestCluster } from '../../helpers/kubernetes';
import { waitFor } from '../../helpers/wait';

const sha = (name: string) => createHash('sha1').update(name).digest('hex');
const A = sha('v1');
const B = sha('v2');
const C = sha('v3-broken');
const descriptor = { entry: 'src/server.ts', healthPath: '/healthz' };

let env: Awaited<ReturnType<typeof startTestCluster>>;
let config: k8s.KubeConfig;
const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-k8s-locks-'));
const timeline: string[] = [];
const started = Date.now();

beforeAll(async () => {
  env = await startTestCluster({ etcdPort: 7310, apiPort: 7320, controllerManagerPort: 7321 });
  config = kubeConfig(env.cluster.kubeconfig);
}, 180_000);

afterAll(async () => {
  if (timeline.length) console.log(`HTTPRoute weights over time:\n${timeline.join('\n')}`);
  await env?.stop();
}, 60_000);

function deployerFor(namespace: string, overrides: Partial<ConstructorParameters<typeof KubernetesDeployer>[0]> = {}) {
  return new KubernetesDeployer({ kubeconfig: env.cluster.kubeconfig, namespace, imageRepository: 'registry.local/maestro', gateway: 'maestro', lockDir, rolloutTimeoutMs: 30_000, ...overrides });
}

/** The route as the API server has it (not as the deployer reports it). */
async function readRoute(namespace: string, name: string) {
  const { body } = await config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject('gateway.networking.k8s.io', 'v1', namespace, 'httproutes', name);
  const route = body as { metadata: { resourceVersion: string }; spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
  return { resourceVersion: route.metadata.resourceVersion, backends: route.spec.rules[0]!.backendRefs.map((b) => `${b.name}=${b.weight}`) };
}
async function logRoute(namespace: string, name: string, event: string) {
  const route = await readRoute(namespace, name);
  timeline.push(`+${((Date.now() - started) / 1000).toFixed(2)}s ${event.padEnd(34)} ${route.backends.join(' ')}`);
  return route;
}
/** The ready endpoints of a Service, as its EndpointSlices (written by the real EndpointSlice controller) have them. */
async function readyEndpoints(namespace: string, service: string): Promise<string[]> {
  const { body } = await config.makeApiClient(k8s.DiscoveryV1Api).listNamespacedEndpointSlice(namespace, undefined, undefined, undefined, undefined, `kubernetes.io/service-name=${service}`);
  return body.items.flatMap((slice) => (slice.endpoints ?? []).filter((e) => e.conditions?.ready === true).map((e) => e.addresses[0]!)).sort();
}
async function podIPs(namespace: string, sha: string): Promise<string[]> {
  const { body } = await config.makeApiClient(k8s.CoreV1Api).listNamespacedPod(namespace, undefined, undefined, undefined, undefined, `maestro.dev/sha=${sha}`);
  return body.items.map((pod) => pod.status?.podIP ?? '').sort();
}
async function deploymentNames(namespace: string): Promise<string[]> {
  const { body } = await config.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment(namespace);
  return body.items.map((d) => d.metadata!.name!).sort();
}

async function newNamespace(): Promise<string> {
  const name = `maestro-${randomBytes(4).toString('hex')}`;
  await createNamespace(config, name);
  return name;
}

/** The Role and RoleBinding as docs/kubernetes.md prints them. */
function documentedRbac(): { role: k8s.V1Role; binding: k8s.V1RoleBinding } {
  const block = /## The RBAC a real cluster needs[\s\S]*?```yaml\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(__dirname, '../../../docs/kubernetes.md'), 'utf8'))![1]!;
  const [role, binding] = parseAllDocuments(block).map((d) => d.toJS() as k8s.V1Role & k8s.V1RoleBinding);
  return { role: role!, binding: binding! };
}

/** A kubeconfig whose identity is a new service account of the namespace, granted exactly `rules` there. */
async function kubeconfigWith(namespace: string, account: string, rules: k8s.V1PolicyRule[]): Promise<string> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount(namespace, { metadata: { name: account } });
  await rbac.createNamespacedRole(namespace, { metadata: { name: account }, rules });
  await rbac.createNamespacedRoleBinding(namespace, {
    metadata: { name: account },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account },
    subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
  });
  const { body } = await core.createNamespacedServiceAccountToken(account, namespace, { spec: { audiences: [], expirationSeconds: 600 } });
  const kubeconfig = JSON.parse(fs.readFileSync(env.cluster.kubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
  kubeconfig.users[0]!.user.token = body.status!.token;
  const file = path.join(env.options.dir, `kubeconfig-${account}-${namespace}`);
  fs.writeFileSync(file, JSON.stringify(kubeconfig));
  return file;
}

test('a canary at 10 → 50 → 100 is promoted, the next one rolled back; the route and the objects follow', async () => {
  const ns = await newNamespace();
  const kubelet = new KubeletStandIn(config, ns);
  try {
    const deployer = deployerFor(ns);
    const stable = await deployer.ensureStable({ service: 'greeter', repo: '/repo', sha: A, descriptor });
    expect(stable.stable.url).toBe(`http://greeter-${A.slice(0, 12)}.${ns}.svc.cluster.local:8080`);
    expect((await logRoute(ns, 'greeter', 'ensureStable v1')).backends).toEqual([`greeter-${A.slice(0, 12)}=100`]);
    // The route sends to the version only once a Gateway can reach it: its Service's ready endpoint is its Pod.
    expect(await readyEndpoints(ns, `greeter-${A.slice(0, 12)}`)).toEqual(await podIPs(ns, A));

    await deployer.acquireLease({ service: 'greeter', owner: 'train-1' });
    await expect(deployer.acquireLease({ service: 'greeter', owner: 'train-2' })).rejects.toBeInstanceOf(ServiceBusyError);
    await deployer.deployCanary({ service: 'greeter', owner: 'train-1', repo: '/repo', baseSha: A, sha: B, descriptor });
    expect(await deploymentNames(ns)).toEqual([`greeter-${A.slice(0, 12)}`, `greeter-${B.slice(0, 12)}`]);
    // When deployCanary returns, the canary's Service already has its Pod as a ready endpoint (its own Pod IP):
    // the first setWeight sends requests a Gateway can deliver.
    const canaryEndpoints = await readyEndpoints(ns, `greeter-${B.slice(0, 12)}`);
    expect(canaryEndpoints).toHaveLength(1);
    expect(canaryEndpoints).toEqual(await podIPs(ns, B));
    expect(canaryEndpoints).not.toEqual(await readyEndpoints(ns, `greeter-${A.slice(0, 12)}`));
    await logRoute(ns, 'greeter', 'deployCanary v2 (train-1)');
    await expect(deployer.setWeight({ service: 'greeter', owner: 'train-2', weight: 10 })).rejects.toBeInstanceOf(NotCanaryOwnerError);

    for (const weight of [10, 50, 100]) {
      await deployer.setWeight({ service: 'greeter', owner: 'train-1', weight });
      const route = await logRoute(ns, 'greeter', `setWeight ${weight}`);
      expect(route.backends).toEqual([`greeter-${A.slice(0, 12)}=${100 - weight}`, `greeter-${B.slice(0, 12)}=${weight}`]);
    }
    // Idempotent: the same weight again is a no-op apply — the object is not even rewritten.
    const before = await readRoute(ns, 'greeter');
    await deployer.setWeight({ service: 'greeter', owner: 'train-1', weight: 100 });
    expect((await readRoute(ns, 'greeter')).resourceVersion).toBe(before.resourceVersion);

    const promoted = await deployer.promote({ service: 'greeter', owner: 'train-1' });
    expect(promoted.previousStableSha).toBe(A);
    expect((await logRoute(ns, 'greeter', 'promote v2')).backends).toEqual([`greeter-${B.slice(0, 12)}=100`]);
    expect((await deployer.promote({ service: 'greeter', owner: 'train-1' })).at).toBe(promoted.at); // a retried promotion finds it done
    await waitFor(async () => (await deploymentNames(ns)).length === 1);
    expect(await deploymentNames(ns)).toEqual([`greeter-${B.slice(0, 12)}`]);
    expect((await deployer.releaseLease({ service: 'greeter', owner: 'train-1' })).released).toBe(true);

    // The next train's canary never becomes ready (the stand-in kubelet reports its probe failing).
    kubelet.brokenShas.add(C);
    await deployer.acquireLease({ service: 'greeter', owner: 'train-2' });
    const impatient = deployerFor(ns, { rolloutTimeoutMs: 3_000 });
    await expect(impatient.deployCanary({ service: 'greeter', owner: 'train-2', repo: '/repo', baseSha: B, sha: C, descriptor })).rejects.toThrow(
      new RegExp(`Deployment ${ns}/greeter-${C.slice(0, 12)} was not available within 3000 ms`),
    );
    kubelet.brokenShas.delete(C); // it comes up after all, gets 10%, and is rolled back
    await deployer.deployCanary({ service: 'greeter', owner: 'train-2', repo: '/repo', baseSha: B, sha: C, descriptor });
    await deployer.setWeight({ service: 'greeter', owner: 'train-2', weight: 10 });
    await logRoute(ns, 'greeter', 'setWeight 10 (train-2, v3)');
    const rolledBack = await deployer.rollback({ service: 'greeter', owner: 'train-2' });
    expect((await logRoute(ns, 'greeter', 'rollback v3')).backends).toEqual([`greeter-${B.slice(0, 12)}=100`]);
    expect((await deployer.rollback({ service: 'greeter', owner: 'train-2' })).at).toBe(rolledBack.at);
    await waitFor(async () => (await deploymentNames(ns)).length === 1);

    const status = await deployer.status({ service: 'greeter' });
    expect(status).toMatchObject({
      weight: 0,
      stable: { sha: B, alive: true },
      canary: null,
      lastPromotion: null, // a new canary starts a new rollout's record, as the local deployer does
      lastRollback: { sha: C, at: rolledBack.at },
      lease: { owner: 'train-2' },
      kubernetes: { namespace: ns, route: 'greeter', backends: [{ name: `greeter-${B.slice(0, 12)}`, role: 'stable', weight: 100 }] },
    });
  } finally {
    await kubelet.stop();
  }
}, 180_000);

test('a version whose Pods are not in its Service\'s EndpointSlices gets no weight, and the refusal says why', async () => {
  const ns = await newNamespace();
  const kubelet = new KubeletStandIn(config, ns);
  try {
    const deployer = deployerFor(ns);
    await deployer.ensureStable({ service: 'greeter', repo: '/repo', sha: A, descriptor });
    // The canary's Pod is ready and its Deployment available, but the Pod is on no Node: the EndpointSlice
    // controller leaves it out, and a Gateway would have nowhere to send the canary's share.
    kubelet.nodelessShas.add(B);
    const impatient = deployerFor(ns, { rolloutTimeoutMs: 3_000 });
    await expect(impatient.deployCanary({ service: 'greeter', repo: '/repo', baseSha: A, sha: B, descriptor })).rejects.toThrow(
      new RegExp(`Service ${ns}/greeter-${B.slice(0, 12)} had 0/0 endpoints ready in its EndpointSlices within 3000 ms \\(needs 1\\): the EndpointSlice controller leaves out Pods without a Pod IP or whose Node it cannot find`),
    );
    expect((await deployer.status({ service: 'greeter' })).canary).toBeNull();
    expect((await readRoute(ns, 'greeter')).backends).toEqual([`greeter-${A.slice(0, 12)}=100`]);
    // Scheduled after all: the controller lists it, and the canary is deployed with its endpoint ready.
    kubelet.nodelessShas.delete(B);
    await deployer.deployCanary({ service: 'greeter', repo: '/repo', baseSha: A, sha: B, descriptor });
    expect(await readyEndpoints(ns, `greeter-${B.slice(0, 12)}`)).toEqual(await podIPs(ns, B));
  } finally {
    await kubelet.stop();
  }
}, 120_000);

test('concurrent writers from two machines: resourceVersion conflicts are retried and no write is lost', async () => {
  const ns = await newNamespace();
  const kubelet = new KubeletStandIn(config, ns);
  try {
    const one = deployerFor(ns);
    // A second deployer with its own lock directory: another machine, only the cluster in common.
    const other = deployerFor(ns, { lockDir: fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-k8s-locks-')) });
    await one.deployCanary({ service: 'api', repo: '/repo', baseSha: A, sha: B, descriptor });
    const weights = [5, 15, 25, 35, 45, 55];
    await Promise.all(weights.map((weight, i) => (i % 2 ? one : other).setWeight({ service: 'api', weight })));
    const final = await one.status({ service: 'api' });
    expect(weights).toContain(final.weight);
    expect(final.canary?.sha).toBe(B); // the annotations survived every interleaving
    const leases = await Promise.allSettled(['t1', 't2', 't3', 't4'].map((owner, i) => (i % 2 ? one : other).acquireLease({ service: 'api', owner })));
    expect(leases.filter((l) => l.status === 'fulfilled')).toHaveLength(1);
    expect(leases.filter((l) => l.status === 'rejected').every((l) => (l as PromiseRejectedResult).reason instanceof ServiceBusyError)).toBe(true);
  } finally {
    await kubelet.stop();
  }
}, 120_000);

test('a refusal by RBAC names the verb and resource to grant', async () => {
  const ns = await newNamespace();
  // Allowed to read routes and leases, nothing else: the deployer's first write must be refused.
  const readsRoutes = await kubeconfigWith(ns, 'limited', [{ apiGroups: ['gateway.networking.k8s.io', 'coordination.k8s.io'], resources: ['httproutes', 'leases'], verbs: ['get', 'list'] }]);
  const deployer = new KubernetesDeployer({ kubeconfig: readsRoutes, namespace: ns, imageRepository: 'registry.local/maestro', gateway: 'maestro', lockDir });
  expect(await deployer.hasService('greeter')).toBe(false); // reading is granted
  const refusal = await deployer.ensureStable({ service: 'greeter', repo: '/repo', sha: A, descriptor }).catch((err: unknown) => err);
  expect(refusal).toBeInstanceOf(KubernetesForbiddenError);
  expect((refusal as Error).message).toMatch(new RegExp(`refused to patch deployments in namespace ${ns}: grant .* verb 'patch' on apiGroup 'apps' resource 'deployments'`));
  expect((refusal as KubernetesForbiddenError).details).toEqual({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: ns });

  // The documented Role without its EndpointSlices rule (an older Role): the version comes up, and the wait for its
  // Service's ready endpoints is refused by name, before the route sends it anything.
  const kubelet = new KubeletStandIn(config, ns);
  try {
    const olderRole = await kubeconfigWith(ns, 'older-role', documentedRbac().role.rules!.filter((rule) => !rule.resources!.includes('endpointslices')));
    const noSlices = await deployerFor(ns, { kubeconfig: olderRole }).ensureStable({ service: 'greeter', repo: '/repo', sha: A, descriptor }).catch((err: unknown) => err);
    expect(noSlices).toBeInstanceOf(KubernetesForbiddenError);
    expect((noSlices as Error).message).toMatch(new RegExp(`refused to list endpointslices in namespace ${ns}: grant .* verb 'list' on apiGroup 'discovery.k8s.io' resource 'endpointslices'`));
    expect((noSlices as KubernetesForbiddenError).details).toEqual({ verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices', namespace: ns });
    expect(await deploymentNames(ns)).toEqual([`greeter-${A.slice(0, 12)}`]);
    expect(await deployer.hasService('greeter')).toBe(false); // no route was written
  } finally {
    await kubelet.stop();
  }
}, 90_000);

test('in a Pod: the in-cluster configuration and exactly the RBAC docs/kubernetes.md gives carry a whole rollout', async () => {
  const ns = await newNamespace();
  const core = config.makeApiClient(k8s.CoreV1Api);
  const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
  // The Role and RoleBinding as the documentation prints them, moved into this test's namespace.
  const { role, binding } = documentedRbac();
  await core.createNamespacedServiceAccount(ns, { metadata: { name: 'maestro-worker' } });
  await rbac.createNamespacedRole(ns, { ...role, metadata: { ...role.metadata, namespace: ns } });
  await rbac.createNamespacedRoleBinding(ns, { ...binding, metadata: { ...binding.metadata, namespace: ns }, subjects: binding.subjects!.map((s) => ({ ...s, namespace: ns })) });
  // What the kubelet mounts into the worker's Pod: its service account's token and the cluster's CA.
  const { body } = await core.createNamespacedServiceAccountToken('maestro-worker', ns, { spec: { audiences: [], expirationSeconds: 600 } });
  const mounted = fs.mkdtempSync(path.join(env.options.dir, 'serviceaccount-'));
  const cluster = JSON.parse(fs.readFileSync(env.cluster.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  fs.writeFileSync(path.join(mounted, 'token'), body.status!.token);
  fs.writeFileSync(path.join(mounted, 'ca.crt'), Buffer.from(cluster.clusters[0]!.cluster['certificate-authority-data'], 'base64'));
  const server = new URL(cluster.clusters[0]!.cluster.server);
  const pod = { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, TOKEN_FILE_PATH: path.join(mounted, 'token'), KUBERNETES_CA_FILE_PATH: path.join(mounted, 'ca.crt') };
  const saved = Object.fromEntries(Object.keys(pod).map((k) => [k, process.env[k]]));
  expect(() => loadKubeConfig(IN_CLUSTER, {})).toThrow(/KUBERNETES_SERVICE_HOST\/PORT are not set: this process does not run in a Pod/);
  Object.assign(process.env, pod);
  const kubelet = new KubeletStandIn(config, ns);
  try {
    const deployer = deployerFor(ns, { kubeconfig: IN_CLUSTER });
    await deployer.ensureStable({ service: 'greeter', repo: '/repo', sha: A, descriptor });
    await deployer.acquireLease({ service: 'greeter', owner: 'pod-train' });
    await deployer.deployCanary({ service: 'greeter', owner: 'pod-train', repo: '/repo', baseSha: A, sha: B, descriptor });
    await deployer.setWeight({ service: 'greeter', owner: 'pod-train', weight: 50 });
    expect((await readRoute(ns, 'greeter')).backends).toEqual([`greeter-${A.slice(0, 12)}=50`, `greeter-${B.slice(0, 12)}=50`]);
    await deployer.promote({ service: 'greeter', owner: 'pod-train' });
    expect((await deployer.releaseLease({ service: 'greeter', owner: 'pod-train' })).released).toBe(true);
    expect((await readRoute(ns, 'greeter')).backends).toEqual([`greeter-${B.slice(0, 12)}=100`]);
    // The identity really is the service account: it may not touch another namespace.
    const elsewhere = await deployerFor('default', { kubeconfig: IN_CLUSTER }).ensureStable({ service: 'greeter', repo: '/repo', sha: A, descriptor }).catch((err: unknown) => err);
    expect(elsewhere).toBeInstanceOf(KubernetesForbiddenError);
  } finally {
    await kubelet.stop();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}, 120_000);

// Last: it takes the HTTPRoute CRD away from the cluster (and puts it back).
test('a cluster without the HTTPRoute CRD is reported with what to install', async () => {
  const ns = await newNamespace();
  const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
  await extensions.deleteCustomResourceDefinition('httproutes.gateway.networking.k8s.io');
  try {
    await waitFor(async () => {
      const { body } = await config.makeApiClient(k8s.ApisApi).getAPIVersions();
      return !body.groups.some((g) => g.name === 'gateway.networking.k8s.io');
    });
    const refusal = await deployerFor(ns).hasService('greeter').catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(KubernetesKindMissingError);
    expect((refusal as Error).message).toMatch(/the cluster does not serve HTTPRoute \(gateway.networking.k8s.io\): install its CRD/);
  } finally {
    await installCrds(env.cluster.kubeconfig);
  }
}, 60_000);
