/**
 * The local cluster for tests (infra/kubernetes: etcd, kube-apiserver, kube-controller-manager; no
 * kubelet, no scheduler) and the part of the kubelet the tests play themselves.
 *
 * NO KUBELET RUNS, so no container ever starts and Pods stay Pending. `KubeletStandIn` plays the
 * kubelet's part that matters to a rollout: it sets each Pod's readiness through the Pod status
 * subresource (phase Running, Ready=True), exactly what a kubelet reports when a readiness probe
 * passes; Pods of the shas it is told are broken are left not ready, as a failing probe would.
 * The ReplicaSet and Deployment controllers (real ones, in kube-controller-manager) then count them.
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureKubernetes, stopKubernetes, type KubernetesOptions, type RunningKubernetes } from '../../infra/kubernetes/server';
import { SHA_LABEL } from '../../core/kubernetes-manifests';

/** A cluster of the test's own on the given ports (from the caller's range), in a fresh directory. */
export async function startTestCluster(ports: { etcdPort: number; apiPort: number; controllerManagerPort: number }): Promise<{ cluster: RunningKubernetes; options: KubernetesOptions; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-k8s-'));
  const binDir = process.env.MAESTRO_K8S_BIN_DIR ?? path.join(__dirname, '..', '..', '.maestro', 'kubernetes-bin');
  const options: KubernetesOptions = { ...ports, dir, binDir };
  const cluster = await ensureKubernetes(options);
  return {
    cluster,
    options,
    stop: async () => {
      await stopKubernetes(options);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function kubeConfig(file: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(file);
  return config;
}

export async function createNamespace(config: k8s.KubeConfig, name: string): Promise<void> {
  await config.makeApiClient(k8s.CoreV1Api).createNamespace({ metadata: { name } });
  // Pods need the namespace's default ServiceAccount, which the controller manager makes.
  const core = config.makeApiClient(k8s.CoreV1Api);
  for (let i = 0; i < 100; i++) {
    try {
      await core.readNamespacedServiceAccount('default', name);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`namespace ${name} got no default ServiceAccount`);
}

/** Marks the namespace's Pods ready (status subresource) every `everyMs`, except those of `brokenShas`. */
export class KubeletStandIn {
  readonly brokenShas = new Set<string>();
  private running = true;
  private readonly loop: Promise<void>;
  private readonly core: k8s.CoreV1Api;

  constructor(config: k8s.KubeConfig, private readonly namespace: string, everyMs = 200) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.loop = (async () => {
      while (this.running) {
        await this.markReady().catch(() => undefined); // a Pod deleted between list and update
        await sleep(everyMs);
      }
    })();
  }

  private async markReady(): Promise<void> {
    const { body } = await this.core.listNamespacedPod(this.namespace);
    for (const pod of body.items) {
      const sha = pod.metadata?.labels?.[SHA_LABEL] ?? '';
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (ready || this.brokenShas.has(sha) || pod.metadata?.deletionTimestamp) continue;
      const now = new Date();
      pod.status = {
        ...pod.status,
        phase: 'Running',
        startTime: now,
        podIP: '10.244.0.10',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'True', lastTransitionTime: now },
        ],
      };
      await this.core.replaceNamespacedPodStatus(pod.metadata!.name!, this.namespace, pod);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
