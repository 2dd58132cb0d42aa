/** `maestro verify <service>`: exit 0 when what runs, the base branch, GitOps and the record agree; 1 when not; 2 usage. */
import { defineCommand, environmentOption, UsageError } from '../command';
import { EXIT } from '../errors';
import { openRecord, recordUnreachable } from '../record';
import { isWorkflowRunning } from '../../io/payload-codec';
import { gitopsRepo, loadProvenance, publicKeyFile } from './provenance';
import { SERVICE_NAME, SERVICE_NAME_RULE } from '../../core/change-request';

export const command = defineCommand({
  name: 'verify',
  usage: `usage: maestro verify <service> [--env dev|staging|prod] [--repo <target repo>] [--base <branch>] [--gitops <repo>] [--key <public key .pem>] [--deploy-dir <dir>] [--json]
  checks the release invariant for a service: what runs (proxy, stable, canary, weight, lease), the base branch's tip,
  the environment's GitOps release and the record agree; names each disagreement. Environment, repo and base branch
  default to those of the service's latest train. Trains are cross-checked with Temporal when it is reachable.
  --deploy-dir is dev's local deployments; staging's and prod's are beside it (<dir>-staging, <dir>-prod).`,
  options: {
    env: { type: 'string' },
    repo: { type: 'string' },
    base: { type: 'string' },
    gitops: { type: 'string' },
    key: { type: 'string' },
    'deploy-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('needs exactly one <service>');
    const service = positionals[0]!;
    if (!SERVICE_NAME.test(service)) throw new UsageError(`'${service}' is not a service name (${SERVICE_NAME_RULE})`);
    const environment = environmentOption(values.env);

    const [p, { LocalDeployer, localDeployDir }, { verifyService }, { STATE, TSX_CLI }, { tryConnectClient }, { record, databaseUrl, close }] = await Promise.all([
      loadProvenance(),
      import('../../delivery/local-deployer'),
      import('../../verify/service-truths'),
      import('../../io/paths'),
      import('../client'),
      openRecord(),
    ]);
    const client = await tryConnectClient();
    try {
      const report = await verifyService(
        {
          deployerFor: (env) => new LocalDeployer({ stateDir: localDeployDir(values['deploy-dir'] ?? STATE.deploy, env), tsxCli: TSX_CLI }),
          record,
          gitopsRepo: gitopsRepo(p, { repo: values.gitops }),
          publicKey: () => p.loadPublicKey(publicKeyFile(p, { key: values.key })),
          ...(client ? { isTrainRunning: (id: string) => isWorkflowRunning(client, id) } : {}),
        },
        { service, environment, repo: values.repo, baseBranch: values.base },
      );
      if (values.json) io.print(JSON.stringify(report, null, 2));
      else {
        const t = report.truths;
        const sha = (s: string | null | undefined) => (s ? s.slice(0, 12) : '—');
        io.print(`${service} in ${report.environment}: invariant ${report.held ? 'HOLDS' : 'VIOLATED'} (${report.state}${report.holder ? `, lease held by ${report.holder}` : ''})`);
        io.print(
          `  runs     stable ${sha(t.runs?.stable?.sha)}${t.runs?.stable && !t.runs.stable.alive ? ' (not answering)' : ''}` +
            `${t.runs?.canary ? `, canary ${sha(t.runs.canary.sha)} at ${t.runs.weight}%` : ''}${t.runs && !t.runs.proxyAlive ? ', proxy DOWN' : ''}${t.runs ? '' : 'nothing deployed'}`,
        );
        io.print(`  base     ${t.base ? `${t.base.branch} @ ${sha(t.base.tipSha)} (${t.base.repo})` : t.baseNotCompared ? `not compared: ${t.baseNotCompared}` : '— (no repository known; pass --repo and --base)'}`);
        io.print(`  gitops   ${t.gitops.commit ? `${sha(t.gitops.commit)} by train ${t.gitops.trainId ?? '?'}` : t.gitops.problem ? 'INVALID' : 'nothing promoted'}`);
        io.print(`  record   last promoted ${sha(t.record.lastPromoted?.mergeSha)}${t.record.lastPromoted ? ` (train ${t.record.lastPromoted.trainId})` : ''}; ${t.record.open.length} open train(s)`);
        if (!client) io.print('  (Temporal not reachable: open trains and the lease holder were not cross-checked)');
        for (const d of report.disagreements) io.print(`  ✗ [${d.between.join(' ≠ ')}] ${d.what}`);
      }
      return report.held ? 0 : 1;
    } catch (err) {
      if ((err as Error).name === 'VerifyInputError') {
        io.error(`maestro verify: ${(err as Error).message}`);
        return EXIT.usage;
      }
      throw await recordUnreachable(err, databaseUrl);
    } finally {
      await close();
      await client?.connection.close();
    }
  },
});
