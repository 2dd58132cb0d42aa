/**
 * The local cluster for tests (infra/kubernetes: etcd, kube-apiserver, kube-controller-manager; no
 * kubelet, no scheduler) and the part of the kubelet (and scheduler) the tests play themselves.
 *
 * NO KUBELET RUNS, so no container ever starts. `KubeletStandIn` PLAYS THE KUBELET'S PART that matters to a
 * rollout, and runs nothing: it registers a Node object and keeps its Ready heartbeat fresh, binds each of the
 * namespace's unscheduled Pods to it through the binding subresource (there is no scheduler), and reports each
 * Pod running and ready with an address of its own through the status subresource, exactly what a kubelet
 * reports when a readiness probe passes; Pods of the shas it is told are broken are left not ready, as a
 * failing probe would. The Node, the Pod IPs and the bindings are what the EndpointSlice controller needs to
 * list a Pod in its Service's EndpointSlice (it skips Pods with no IP or whose Node it cannot find); the
 * ReplicaSet and Deployment controllers count the Pods. The Node and the binding are written by the same code
 * as the local node's (infra/kubernetes/local-node.ts), which also runs the Pods' commits.
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureKubernetes, stopKubernetes, type KubernetesOptions, type RunningKubernetes } from '../../infra/kubernetes/server';
import { SHA_LABEL } from '../../core/kubernetes-manifests';
import { podAddress } from '../../core/local-pod-network';
import { bindPod, registerNode, reportNodeReady } from '../../infra/kubernetes/local-node';

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

/**
 * Plays the kubelet (and scheduler) for one namespace, every `everyMs`: binds its Pods to a Node of its own and marks
 * them running and ready, each with its own Pod IP, except those of `brokenShas`. Runs no container.
 */
export class KubeletStandIn {
  /** Their Pods stay not ready, as with a failing readiness probe. */
  readonly brokenShas = new Set<string>();
  /** Their Pods are reported ready but left unbound, as Pods whose Node is gone: the EndpointSlice controller leaves them out. */
  readonly nodelessShas = new Set<string>();
  readonly nodeName: string;
  private running = true;
  private readonly loop: Promise<void>;
  private readonly core: k8s.CoreV1Api;
  private readonly podNetwork = 10 + Math.floor(Math.random() * 240);
  private nextAddress = 0;
  private heartbeatAt = 0;

  constructor(config: k8s.KubeConfig, private readonly namespace: string, everyMs = 200) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    // A Node per namespace: one left behind by a finished test goes NotReady without touching the others' Pods.
    this.nodeName = `kubelet-stand-in-${namespace}`;
    this.loop = (async () => {
      while (this.running) {
        await this.playKubelet().catch(() => undefined); // the Node not there yet, or a Pod deleted between list and update
        await sleep(everyMs);
      }
    })();
  }

  private async playKubelet(): Promise<void> {
    if (Date.now() - this.heartbeatAt > NODE_HEARTBEAT_MS) {
      await (this.heartbeatAt ? reportNodeReady(this.core, this.nodeName) : registerNode(this.core, this.nodeName));
      this.heartbeatAt = Date.now();
    }
    const { body } = await this.core.listNamespacedPod(this.namespace);
    for (const pod of body.items) {
      const name = pod.metadata!.name!;
      const sha = pod.metadata?.labels?.[SHA_LABEL] ?? '';
      if (pod.metadata?.deletionTimestamp) continue;
      if (!pod.spec?.nodeName && !this.nodelessShas.has(sha)) {
        await bindPod(this.core, this.namespace, name, this.nodeName);
        continue; // marked ready on the next round, once the API server has the binding
      }
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (ready || this.brokenShas.has(sha)) continue;
      const now = new Date();
      const podIP = pod.status?.podIP ?? podAddress(this.podNetwork, this.nextAddress++);
      pod.status = {
        ...pod.status,
        phase: 'Running',
        startTime: now,
        hostIP: '127.0.0.1',
        podIP,
        podIPs: [{ ip: podIP }],
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'True', lastTransitionTime: now },
        ],
      };
      await this.core.replaceNamespacedPodStatus(name, this.namespace, pod);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Well inside the node lifecycle controller's grace period (40 s and more). */
const NODE_HEARTBEAT_MS = 10_000;
