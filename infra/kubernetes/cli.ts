/** `tsx infra/kubernetes/cli.ts start|stop`: the local Kubernetes control plane (etcd, API server, controller manager; no kubelet). */
import { runServerCli } from '../detached-server';
import { defaultKubernetes, ensureKubernetes, stopKubernetes } from './server';

runServerCli(
  'infra/kubernetes/cli.ts',
  {
    start: async () => {
      const k8s = await ensureKubernetes();
      return [
        `${k8s.reused ? 'Kubernetes already running' : `Kubernetes started (${Object.entries(k8s.pids).map(([name, pid]) => `${name} pid ${pid}`).join(', ')})`}: API server ${k8s.url}`,
        `use it with: export KUBECONFIG=${k8s.kubeconfig}`,
      ].join('\n');
    },
    stop: async () => ((await stopKubernetes()) ? 'Kubernetes stopped' : `no Kubernetes started by this project runs from ${defaultKubernetes.dir}`),
  },
  'ports: MAESTRO_K8S_ETCD_PORT, MAESTRO_K8S_API_PORT, MAESTRO_K8S_CONTROLLER_MANAGER_PORT; MAESTRO_K8S_DIR',
);
