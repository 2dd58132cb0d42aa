/** `maestro provenance verify <release>`: exit 0 verified, 1 verification failed or nothing found, 2 usage. */
import fs from 'node:fs';
import path from 'node:path';
import { defineCommand, UsageError } from '../command';

/** Signing and verification load node:crypto and git helpers: only a run, not --help, pays for them. */
export const loadProvenance = async () => ({
  ...(await import('../../provenance/gitops')),
  ...(await import('../../provenance/signing')),
  ...(await import('../../provenance/release')),
});
export type Provenance = Awaited<ReturnType<typeof loadProvenance>>;

export interface LocationOptions {
  key?: string;
  repo?: string;
  releases?: string;
}

export const publicKeyFile = (p: Provenance, o: LocationOptions) => o.key ?? path.join(process.env.MAESTRO_KEY_DIR ?? p.DEFAULT_KEY_DIR, 'provenance-ed25519.pub');
export const gitopsRepo = (p: Provenance, o: LocationOptions) => o.repo ?? process.env.MAESTRO_GITOPS_REPO ?? p.DEFAULT_GITOPS_REPO;

/** A release is a bundle directory, a train id under .maestro/releases, or <env>/<service> in the GitOps repository. */
function resolveRelease(p: Provenance, release: string, o: LocationOptions): string | undefined {
  const releases = o.releases ?? process.env.MAESTRO_RELEASES_DIR ?? p.DEFAULT_RELEASES_DIR;
  const candidates = [path.resolve(release), path.join(releases, release), path.join(gitopsRepo(p, o), 'environments', release)];
  return candidates.find((c) => fs.existsSync(path.join(c, 'provenance.dsse.json')));
}

export const command = defineCommand({
  name: 'provenance',
  usage: `usage: maestro provenance verify <release> [--key <public key .pem>] [--repo <gitops repo>] [--releases <dir>]
  <release>: a release directory, a train id (under .maestro/releases), or <env>/<service> in the GitOps repository`,
  options: { key: { type: 'string' }, repo: { type: 'string' }, releases: { type: 'string' } },
  async run({ values, positionals }, io) {
    const [sub, release, ...extra] = positionals;
    if (sub !== 'verify') throw new UsageError(sub ? `unknown subcommand '${sub}'; allowed: verify` : 'missing subcommand verify');
    if (!release || extra.length) throw new UsageError('verify needs exactly one <release>');
    const p = await loadProvenance();
    const dir = resolveRelease(p, release, values);
    if (!dir) {
      io.print(`provenance verify: no release '${release}' (looked for provenance.dsse.json in ./${release}, the releases directory and the GitOps repository)`);
      return 1;
    }
    try {
      const key = p.loadPublicKey(publicKeyFile(p, values));
      const v = p.verifyRelease(dir, key);
      const meta = v.statement.predicate.runDetails.metadata;
      io.print(`verified ${dir}`);
      io.print(`  signature  ok (${v.statement.predicateType})`);
      io.print(`  train      ${meta.invocationId}`);
      io.print(`  commit     ${v.commit ?? '(none)'}`);
      for (const s of v.subjects) io.print(`  subject    ${s.name}  sha256:${s.sha256}`);
      for (const [name, digest] of Object.entries(v.evidence)) io.print(`  evidence   ${name}  sha256:${digest}`);
      return 0;
    } catch (err) {
      io.print(`provenance verify FAILED: ${(err as Error).message}`);
      return 1;
    }
  },
});
