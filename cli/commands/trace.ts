/** `maestro trace <env>`: exit 0 when every service's provenance verifies, 1 otherwise, 2 usage. */
import { defineCommand, UsageError } from '../command';
import { gitopsRepo, loadProvenance, publicKeyFile } from './provenance';

export const command = defineCommand({
  name: 'trace',
  usage: `usage: maestro trace <env> [--repo <gitops repo>] [--key <public key .pem>] [--json]
  what runs in an environment: per service the commit, train, promotion and evidence, with its provenance checked`,
  options: { repo: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('needs exactly one <env>');
    const env = positionals[0]!;
    try {
      const p = await loadProvenance();
      const entries = await p.trace(gitopsRepo(p, values), env, p.loadPublicKey(publicKeyFile(p, values)));
      if (values.json) {
        io.print(JSON.stringify({ environment: env, services: entries }, null, 2));
      } else {
        io.print(`${env}: ${entries.length} service(s)`);
        for (const e of entries) {
          io.print(`${e.service}  ${e.verified ? 'provenance verified' : 'PROVENANCE INVALID'}`);
          io.print(`  commit     ${e.commit ?? '?'}`);
          io.print(`  train      ${e.trainId ?? '?'}  change ${e.changeId ?? '?'}`);
          io.print(`  promoted   ${e.promotedAt ?? '?'} by ${e.promotedBy ?? '?'} in GitOps commit ${e.gitopsCommit?.slice(0, 12) ?? '?'}`);
          for (const [name, digest] of Object.entries(e.evidence ?? {})) io.print(`  evidence   ${name}  sha256:${digest}`);
          if (e.appeals?.length) io.print(`  appeals    ${JSON.stringify(e.appeals)}`);
          if (e.error) io.print(`  error      ${e.error}`);
        }
      }
      return entries.every((e) => e.verified) ? 0 : 1;
    } catch (err) {
      io.print(`trace ${env}: ${(err as Error).message}`);
      return 1;
    }
  },
});
