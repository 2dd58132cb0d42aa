import { defineCommand, environmentOption, UsageError } from '../command';

export const command = defineCommand({
  name: 'status',
  usage: `usage: maestro status <train-id>
       maestro status --k8s <service> [--env dev|staging|prod]
  the train's stage, canary weight, eval score and risk, last probe and history, and its trace
  when it was started traced (exit 4: no such train); with --k8s, the service's Kubernetes objects
  (HTTPRoute backends and weights, Deployments and availability, lease) in the cluster MAESTRO_K8S_* name,
  in the environment's namespace (dev: MAESTRO_K8S_NAMESPACE; staging, prod: <namespace>-<env>)`,
  options: { k8s: { type: 'boolean' }, env: { type: 'string' } },
  async run({ positionals, values }, io) {
    if (positionals.length !== 1) throw new UsageError(values.k8s ? 'needs exactly one <service>' : 'needs exactly one <train-id>');
    if (values.env !== undefined && !values.k8s) throw new UsageError('--env goes with --k8s (a train shows its environments itself)');
    const environment = environmentOption(values.env);
    if (values.k8s) {
      const { kubernetesStatus } = await import('../kubernetes-status');
      io.print(await kubernetesStatus(positionals[0]!, environment));
      return 0;
    }
    const [{ connectClient }, { formatStatus, formatTrace, queryStatus, trainTrace }] = await Promise.all([import('../client'), import('../release')]);
    const client = await connectClient();
    io.print(formatStatus(await queryStatus(client, positionals[0]!)));
    const trace = await trainTrace(client, positionals[0]!);
    if (trace) io.print(formatTrace(trace));
    return 0;
  },
});
