/** `maestro status --k8s <service>`: what the Kubernetes (or, with MAESTRO_DEPLOYER=argo-rollouts, the Argo Rollouts) deployer has in the cluster for a service. */
import path from 'node:path';
import { z } from 'zod';
import { parseOrThrow } from '../core/validation';
import { environmentNamespace, kubernetesEnvShape } from '../core/kubernetes-manifests';
import type { Environment } from '../core/change-request';
import { KubernetesDeployer } from '../delivery/kubernetes-deployer';
import { ArgoRolloutsDeployer } from '../delivery/argo-rollouts-deployer';
import { canaryWeightsFromText } from '../core/argo-rollout-manifests';
import { localDeployDir } from '../delivery/local-deployer';
import { defaultKubernetes, kubeconfigPath } from '../infra/kubernetes/server';
import { STATE } from '../io/paths';

export async function kubernetesStatus(service: string, environment: Environment = 'dev'): Promise<string> {
  const shape = {
    ...kubernetesEnvShape(kubeconfigPath(defaultKubernetes)),
    MAESTRO_DEPLOYER: z.string().optional(),
    MAESTRO_ARGO_CANARY_WEIGHTS: canaryWeightsFromText.optional(),
  };
  const picked = Object.fromEntries(Object.keys(shape).filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
  const config = parseOrThrow(z.object(shape), picked, 'Kubernetes configuration (MAESTRO_K8S_* environment variables)');
  const cluster = {
    kubeconfig: config.MAESTRO_K8S_KUBECONFIG,
    namespace: environmentNamespace(config.MAESTRO_K8S_NAMESPACE, environment),
    imageRepository: config.MAESTRO_K8S_IMAGE_REPOSITORY,
    lockDir: path.join(localDeployDir(STATE.deploy, environment), 'kubernetes-locks'),
  };
  const argo = config.MAESTRO_DEPLOYER === 'argo-rollouts';
  const deployer = argo
    ? new ArgoRolloutsDeployer({ ...cluster, ...(config.MAESTRO_ARGO_CANARY_WEIGHTS ? { canaryWeights: config.MAESTRO_ARGO_CANARY_WEIGHTS } : {}) })
    : new KubernetesDeployer({ ...cluster, gateway: config.MAESTRO_K8S_GATEWAY });
  const status = await deployer.status({ service });
  const k8s = status.kubernetes!;
  const version = (role: string, v: typeof status.stable) => (v ? `  ${role.padEnd(7)} ${argo ? 'ReplicaSet' : 'Deployment+Service'} ${k8s.backends.find((b) => b.role === role)?.name} (${v.alive ? 'available' : 'NOT available'})` : `  ${role.padEnd(7)} none`);
  return [
    `service ${service} in namespace ${k8s.namespace}`,
    `  ${argo ? '' : 'HTTPRoute '}${k8s.route}: ${k8s.backends.map((b) => `${b.name} ${b.weight}% (${b.role})`).join(', ')}`,
    version('stable', status.stable),
    version('canary', status.canary),
    `  lease   ${status.lease ? `${status.lease.owner} since ${new Date(status.lease.since).toISOString()}` : 'free'}`,
    ...(status.lastPromotion ? [`  last promotion ${status.lastPromotion.sha.slice(0, 12)} at ${new Date(status.lastPromotion.at).toISOString()}`] : []),
    ...(status.lastRollback ? [`  last rollback  ${status.lastRollback.sha.slice(0, 12)} at ${new Date(status.lastRollback.at).toISOString()}`] : []),
  ].join('\n');
}
