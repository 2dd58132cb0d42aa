import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'up',
  usage: `usage: maestro up [--k8s]
  start (or reuse) PostgreSQL (migrated), the Temporal dev server (Web UI :8233) and one worker, detached;
  --k8s also the local Kubernetes control plane (etcd, API server, controller manager; no kubelet)
  for MAESTRO_DEPLOYER=kubernetes (build it once with scripts/setup-kubernetes.sh)`,
  options: { k8s: { type: 'boolean' } },
  async run({ positionals, values }, io) {
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(' ')}`);
    const { up } = await import('../stack');
    await up(io.print, { kubernetes: values.k8s === true });
    return 0;
  },
});
