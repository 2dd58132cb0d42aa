/**
 * The Argo Rollouts deployer against a real API server and controller manager (infra/kubernetes) and the
 * real Argo Rollouts controller v1.10.1 (cmd/rollouts-controller, built from the Go module proxy by
 * scripts/setup-argo-rollouts.sh), with the CRDs from Argo's own module. Argo does the canary: it creates and
 * scales the ReplicaSets, moves status.stableRS, and reacts to the status patches Maestro sends.
 *
 * No kubelet runs in this cluster, so no container starts: the test plays the kubelet's part by setting Pod
 * readiness through the status subresource (test/helpers/kubernetes.ts KubeletStandIn), and Argo counts
 * those Pods as available. Ports 7350–7355: etcd 7350–7351, API server 7352, controller manager 7353,
 * Argo's metrics 7354 and healthz 7355.
 */
import * as k8s from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArgoRolloutsDeployer } from '../../../delivery/argo-rollouts-deployer';
import { KubernetesForbiddenError, KubernetesKindMissingError } from '../../../delivery/kubernetes-deployer';
import { NotCanaryOwnerError } from '../../../delivery/local-deployer';
import { startArgoRolloutsController, stopArgoRolloutsController } from '../../../infra/argo-rollouts/controller';
import { kubernetesStatus } from '../../../cli/kubernetes-status';
import { KubeletStandIn, createNamespace, kubeConfig, startTestCluster } from '../../helpers/kubernetes';
import { waitFor } from '../../helpers/wait';

const sha = (name: string) => createHash('sha1').update(name).digest('hex');
const V1 = sha('v1');
const V2 = sha('v2');
const V3 = sha('v3');
const descriptor = { entry: 'src/server.ts', healthPath: '/healthz' };
const REPLICAS = 10; // Argo's basic canary splits by Pods: 10% is 1 of 10
const WEIGHTS = [10, 50, 100]; // steps: 0 pause, 1 setWeight 10, 2 pause, 3 setWeight 50, 4 pause, 5 setWeight 100, 6 pause
const ARGO_PORTS = { metricsPort: 7354, healthzPort: 7355 };

let env: Awaited<ReturnType<typeof startTestCluster>>;
let config: k8s.KubeConfig;
const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-argo-locks-'));

beforeAll(async () => {
  env = await startTestCluster({ etcdPort: 7350, apiPort: 7352, controllerManagerPort: 7353 });
  config = kubeConfig(env.cluster.kubeconfig);
}, 180_000);

afterAll(async () => {
  await env?.stop();
}, 60_000);

function deployerFor(namespace: string, kubeconfig = env.cluster.kubeconfig) {
  return new ArgoRolloutsDeployer({ kubeconfig, namespace, imageRepository: 'registry.local/maestro', lockDir, replicas: REPLICAS, canaryWeights: WEIGHTS, rolloutTimeoutMs: 60_000 });
}

async function newNamespace(): Promise<string> {
  const name = `argo-${randomBytes(4).toString('hex')}`;
  await createNamespace(config, name);
  return name;
}

interface RolloutView {
  step?: number;
  paused: boolean;
  abort: boolean;
  phase?: string;
  stableRS?: string;
  currentPodHash?: string;
  image: string;
}
/** The Rollout as the API server has it (not as the deployer reports it). */
async function readRollout(ns: string): Promise<RolloutView> {
  const { body } = await config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject('argoproj.io', 'v1alpha1', ns, 'rollouts', 'greeter');
  const r = body as { spec: { template: { spec: { containers: { image: string }[] } } }; status?: { currentStepIndex?: number; pauseConditions?: unknown[] | null; abort?: boolean; phase?: string; stableRS?: string; currentPodHash?: string } };
  const s = r.status ?? {};
  return { step: s.currentStepIndex, paused: (s.pauseConditions?.length ?? 0) > 0, abort: s.abort === true, phase: s.phase, stableRS: s.stableRS, currentPodHash: s.currentPodHash, image: r.spec.template.spec.containers[0]!.image };
}
/** Each ReplicaSet Argo made: its version (the sha label), pod-template hash, replicas asked and ready. */
async function replicaSets(ns: string): Promise<{ version: string; hash: string; replicas: number; ready: number }[]> {
  const { body } = await config.makeApiClient(k8s.AppsV1Api).listNamespacedReplicaSet(ns);
  const version: Record<string, string> = { [V1]: 'v1', [V2]: 'v2', [V3]: 'v3' };
  return body.items
    .map((rs) => ({ version: version[rs.metadata!.labels!['maestro.dev/sha']!] ?? '?', hash: rs.metadata!.labels!['rollouts-pod-template-hash']!, replicas: rs.spec!.replicas ?? 0, ready: rs.status!.readyReplicas ?? 0 }))
    .sort((a, b) => a.version.localeCompare(b.version));
}
const hashOf = async (ns: string, v: string) => (await replicaSets(ns)).find((rs) => rs.version === v)!.hash;
const replicasOf = async (ns: string) => Object.fromEntries((await replicaSets(ns)).map((rs) => [rs.version, rs.replicas]));

/** Every change of the Rollout, as a watch delivers it, with the ReplicaSets at that moment: Argo's side of the story. */
class RolloutTimeline {
  readonly lines: string[] = [];
  readonly seen: (RolloutView & { sets: Awaited<ReturnType<typeof replicaSets>> })[] = [];
  private readonly started = Date.now();
  private request?: { abort(): void };
  private last = '';

  constructor(private readonly ns: string) {}

  async start(): Promise<void> {
    this.request = await new k8s.Watch(config).watch(`/apis/argoproj.io/v1alpha1/namespaces/${this.ns}/rollouts`, {}, () => void this.record('').catch(() => undefined), () => undefined);
  }
  /** Also called by the test at each deployer call, so the line says what Maestro asked for. */
  async record(event: string): Promise<void> {
    const [view, sets] = await Promise.all([readRollout(this.ns).catch(() => null), replicaSets(this.ns)]);
    if (!view) return;
    const hashes = Object.fromEntries(sets.map((s) => [s.hash, s.version]));
    const line = `step ${view.step ?? '-'}${view.paused ? ' paused' : ''}${view.abort ? ' ABORTED' : ''} ${view.phase ?? '-'}; stableRS ${hashes[view.stableRS ?? ''] ?? '-'}, current ${hashes[view.currentPodHash ?? ''] ?? '-'}; ReplicaSets ${sets.map((s) => `${s.version} ${s.ready}/${s.replicas}`).join(', ')}`;
    this.seen.push({ ...view, sets });
    if (line === this.last && !event) return;
    this.last = line;
    this.lines.push(`+${((Date.now() - this.started) / 1000).toFixed(2)}s ${(event ? `[${event}]` : '').padEnd(26)} ${line}`);
  }
  stop(): void {
    this.request?.abort();
  }
}

test('a cluster without the Rollout CRD is reported with what to install', async () => {
  const ns = await newNamespace();
  const refusal = await deployerFor(ns).hasService('greeter').catch((err: unknown) => err);
  expect(refusal).toBeInstanceOf(KubernetesKindMissingError);
  expect((refusal as Error).message).toMatch(/the cluster does not serve Rollout \(argoproj.io\): install its CRD \(Argo Rollouts/);
}, 60_000);

describe('with the Argo Rollouts controller running', () => {
  let ns: string;
  let controllerDir: string;
  beforeAll(async () => {
    ns = await newNamespace();
    controllerDir = fs.mkdtempSync(path.join(env.options.dir, 'argo-'));
    const starting = Date.now();
    const argo = await startArgoRolloutsController({ kubeconfig: env.cluster.kubeconfig, namespace: ns, dir: controllerDir, ...ARGO_PORTS });
    console.log(`Argo Rollouts: 5 CRDs installed and the controller (pid ${argo.pid}) healthy in ${Date.now() - starting} ms`);
    expect(argo.crds).toEqual(['analysisruns.argoproj.io', 'analysistemplates.argoproj.io', 'clusteranalysistemplates.argoproj.io', 'experiments.argoproj.io', 'rollouts.argoproj.io']);
  }, 120_000);
  afterAll(async () => {
    await stopArgoRolloutsController({ dir: controllerDir, healthzPort: ARGO_PORTS.healthzPort });
  }, 30_000);

  test('v1 stable; v2 canaried at 10 → 50 → 100 and promoted; v3 at 10 aborted: Argo scales the ReplicaSets each time', async () => {
    const kubelet = new KubeletStandIn(config, ns);
    const timeline = new RolloutTimeline(ns);
    const deployer = deployerFor(ns);
    try {
      await deployer.ensureStable({ service: 'greeter', repo: '/repo', sha: V1, descriptor });
      await timeline.start();
      await timeline.record('ensureStable v1');
      const v1 = await hashOf(ns, 'v1');
      expect(await readRollout(ns)).toMatchObject({ phase: 'Healthy', stableRS: v1, currentPodHash: v1, image: `registry.local/maestro/greeter:${V1}` });
      expect(await replicasOf(ns)).toEqual({ v1: REPLICAS });

      await deployer.acquireLease({ service: 'greeter', owner: 'train-1' });
      await deployer.deployCanary({ service: 'greeter', owner: 'train-1', repo: '/repo', baseSha: V1, sha: V2, descriptor });
      await timeline.record('deployCanary v2');
      const v2 = await hashOf(ns, 'v2');
      // Held at the leading pause: the new template's ReplicaSet exists with no Pods, v1 keeps all the traffic.
      expect(await readRollout(ns)).toMatchObject({ step: 0, paused: true, stableRS: v1, currentPodHash: v2, image: `registry.local/maestro/greeter:${V2}` });
      expect(await replicasOf(ns)).toEqual({ v1: REPLICAS, v2: 0 });
      await expect(deployer.setWeight({ service: 'greeter', owner: 'train-2', weight: 10 })).rejects.toBeInstanceOf(NotCanaryOwnerError);

      for (const [weight, step] of [[10, 2], [50, 4], [100, 6]] as const) {
        await deployer.setWeight({ service: 'greeter', owner: 'train-1', weight });
        await timeline.record(`setWeight ${weight}`);
        expect(await readRollout(ns)).toMatchObject({ step, paused: true, abort: false, stableRS: v1, currentPodHash: v2 });
        // Argo's basic canary: the canary gets weight% of the Pods, the stable the rest.
        expect(await replicasOf(ns)).toEqual({ v1: REPLICAS - (REPLICAS * weight) / 100, v2: (REPLICAS * weight) / 100 });
        expect((await deployer.status({ service: 'greeter' })).weight).toBe(weight);
      }
      // Idempotent: the same weight again writes nothing.
      const before = (await config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject('argoproj.io', 'v1alpha1', ns, 'rollouts', 'greeter')).body as { metadata: { resourceVersion: string } };
      await deployer.setWeight({ service: 'greeter', owner: 'train-1', weight: 100 });
      const after = (await config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject('argoproj.io', 'v1alpha1', ns, 'rollouts', 'greeter')).body as { metadata: { resourceVersion: string } };
      expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);

      const promoted = await deployer.promote({ service: 'greeter', owner: 'train-1' });
      await timeline.record('promote v2');
      expect(promoted.previousStableSha).toBe(V1);
      expect(await readRollout(ns)).toMatchObject({ phase: 'Healthy', stableRS: v2, currentPodHash: v2 });
      await waitFor(async () => (await replicasOf(ns)).v1 === 0, 30_000); // Argo scales the old stable down
      expect(await replicasOf(ns)).toEqual({ v1: 0, v2: REPLICAS });
      expect((await deployer.promote({ service: 'greeter', owner: 'train-1' })).at).toBe(promoted.at); // a retried promotion finds it done
      expect((await deployer.releaseLease({ service: 'greeter', owner: 'train-1' })).released).toBe(true);

      await deployer.acquireLease({ service: 'greeter', owner: 'train-2' });
      await deployer.deployCanary({ service: 'greeter', owner: 'train-2', repo: '/repo', baseSha: V2, sha: V3, descriptor });
      await timeline.record('deployCanary v3');
      await deployer.setWeight({ service: 'greeter', owner: 'train-2', weight: 10 });
      await timeline.record('setWeight 10 (v3)');
      expect(await replicasOf(ns)).toMatchObject({ v2: REPLICAS - 1, v3: 1 });
      const rolledBack = await deployer.rollback({ service: 'greeter', owner: 'train-2' });
      await timeline.record('rollback v3');
      // Argo took the abort: a moment with status.abort, v3 scaled to nothing and v2 still stable.
      const v3 = await hashOf(ns, 'v3');
      expect(timeline.seen.some((s) => s.abort && s.stableRS === v2 && s.currentPodHash === v3 && s.sets.find((rs) => rs.version === 'v3')?.replicas === 0)).toBe(true);
      // Then the spec went back to v2, which Argo took without steps.
      expect(await readRollout(ns)).toMatchObject({ phase: 'Healthy', stableRS: v2, currentPodHash: v2, image: `registry.local/maestro/greeter:${V2}` });
      expect(await replicasOf(ns)).toMatchObject({ v2: REPLICAS, v3: 0 });
      expect((await deployer.rollback({ service: 'greeter', owner: 'train-2' })).at).toBe(rolledBack.at);

      expect(await deployer.status({ service: 'greeter' })).toMatchObject({
        weight: 0,
        stable: { sha: V2, alive: true },
        canary: null,
        lastPromotion: null, // a new canary starts a new rollout's record, as the other deployers do
        lastRollback: { sha: V3, at: rolledBack.at },
        lease: { owner: 'train-2' },
        kubernetes: { namespace: ns, route: 'Rollout greeter', backends: [{ name: `greeter-${v2}`, role: 'stable', weight: 100 }] },
      });
      // maestro status --k8s with the worker's variables prints the same.
      const variables = { MAESTRO_DEPLOYER: 'argo-rollouts', MAESTRO_K8S_KUBECONFIG: env.cluster.kubeconfig, MAESTRO_K8S_NAMESPACE: ns, MAESTRO_ARGO_CANARY_WEIGHTS: WEIGHTS.join(',') };
      Object.assign(process.env, variables);
      try {
        const printed = await kubernetesStatus('greeter');
        expect(printed).toContain(`Rollout greeter: greeter-${v2} 100% (stable)`);
        expect(printed).toContain(`stable  ReplicaSet greeter-${v2} (available)`);
        expect(printed).toContain(`last rollback  ${V3.slice(0, 12)}`);
      } finally {
        for (const name of Object.keys(variables)) delete process.env[name];
      }
    } finally {
      timeline.stop();
      await kubelet.stop();
      console.log(`The Rollout as Argo moved it (step, pause, abort, phase, stable and current ReplicaSet; each ReplicaSet ready/replicas):\n${timeline.lines.join('\n')}`);
    }
  }, 240_000);

  test('a refusal by RBAC names the verb and resource to grant on rollouts', async () => {
    const core = config.makeApiClient(k8s.CoreV1Api);
    const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount(ns, { metadata: { name: 'limited' } });
    // Services and reading Rollouts granted, writing them not: the Rollout's apply must be refused.
    await rbac.createNamespacedRole(ns, {
      metadata: { name: 'read-rollouts' },
      rules: [
        { apiGroups: ['argoproj.io'], resources: ['rollouts'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['services'], verbs: ['get', 'create', 'patch'] },
      ],
    });
    await rbac.createNamespacedRoleBinding(ns, { metadata: { name: 'limited-reads-rollouts' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-rollouts' }, subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace: ns }] });
    const { body } = await core.createNamespacedServiceAccountToken('limited', ns, { spec: { audiences: [], expirationSeconds: 600 } });
    const limited = JSON.parse(fs.readFileSync(env.cluster.kubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
    limited.users[0]!.user.token = body.status!.token;
    const file = path.join(env.options.dir, `kubeconfig-limited-${ns}`);
    fs.writeFileSync(file, JSON.stringify(limited));

    const deployer = deployerFor(ns, file);
    expect(await deployer.hasService('other')).toBe(false); // reading is granted
    const refusal = await deployer.ensureStable({ service: 'other', repo: '/repo', sha: V1, descriptor }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(KubernetesForbiddenError);
    expect((refusal as Error).message).toMatch(new RegExp(`refused to (patch|create) rollouts in namespace ${ns}: grant .* on apiGroup 'argoproj.io' resource 'rollouts'`));
    // The status subresource is a resource of its own: promote, set weight and abort need 'patch' on rollouts/status.
    await deployerFor(ns).deployCanary({ service: 'greeter', repo: '/repo', baseSha: V2, sha: V1, descriptor });
    const noStatus = await deployer.setWeight({ service: 'greeter', weight: 50 }).catch((err: unknown) => err);
    expect(noStatus).toBeInstanceOf(KubernetesForbiddenError);
    expect((noStatus as KubernetesForbiddenError).details).toEqual({ verb: 'patch', group: 'argoproj.io', resource: 'rollouts/status', namespace: ns });
  }, 60_000);
});
