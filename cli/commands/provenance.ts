/**
 * `maestro provenance verify <release>` and `maestro trace <env>` (wired into cli/main.ts).
 * Both return an exit code: 0 ok, 1 verification failed / nothing found, 2 usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { STATE } from '../../io/paths';
import { trace } from '../../provenance/gitops';
import { loadPublicKey } from '../../provenance/signing';
import { verifyRelease } from '../../provenance/release';

type Print = (line: string) => void;

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}
const VALUE_OPTIONS = new Set(['--key', '--repo', '--releases']);
function positional(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (VALUE_OPTIONS.has(argv[i]!)) i++;
    else if (!argv[i]!.startsWith('--')) out.push(argv[i]!);
  }
  return out;
}

const publicKeyFile = (argv: string[]) => option(argv, '--key') ?? path.join(process.env.MAESTRO_KEY_DIR ?? STATE.keys, 'provenance-ed25519.pub');
const gitopsRepo = (argv: string[]) => option(argv, '--repo') ?? process.env.MAESTRO_GITOPS_REPO ?? STATE.gitops;

/** A release is a bundle directory, a train id under .maestro/releases, or <env>/<service> in the GitOps repository. */
export function resolveRelease(release: string, argv: string[] = []): string | undefined {
  const releases = option(argv, '--releases') ?? process.env.MAESTRO_RELEASES_DIR ?? STATE.releases;
  const candidates = [path.resolve(release), path.join(releases, release), path.join(gitopsRepo(argv), 'environments', release)];
  return candidates.find((c) => fs.existsSync(path.join(c, 'provenance.dsse.json')));
}

export async function provenanceCommand(argv: string[], print: Print): Promise<number> {
  const [sub, release] = positional(argv);
  if (sub !== 'verify' || !release) {
    print('usage: maestro provenance verify <release> [--key <public key .pem>] [--repo <gitops repo>] [--releases <dir>]');
    print('  <release>: a release directory, a train id (under .maestro/releases), or <env>/<service> in the GitOps repository');
    return 2;
  }
  const dir = resolveRelease(release, argv);
  if (!dir) {
    print(`provenance verify: no release '${release}' (looked for provenance.dsse.json in ./${release}, the releases directory and the GitOps repository)`);
    return 1;
  }
  try {
    const key = loadPublicKey(publicKeyFile(argv));
    const v = verifyRelease(dir, key);
    const meta = v.statement.predicate.runDetails.metadata;
    print(`verified ${dir}`);
    print(`  signature  ok (${v.statement.predicateType})`);
    print(`  train      ${meta.invocationId}`);
    print(`  commit     ${v.commit ?? '(none)'}`);
    for (const s of v.subjects) print(`  subject    ${s.name}  sha256:${s.sha256}`);
    for (const [name, digest] of Object.entries(v.evidence)) print(`  evidence   ${name}  sha256:${digest}`);
    return 0;
  } catch (err) {
    print(`provenance verify FAILED: ${(err as Error).message}`);
    return 1;
  }
}

export async function traceCommand(argv: string[], print: Print): Promise<number> {
  const [env] = positional(argv);
  if (!env) {
    print('usage: maestro trace <env> [--repo <gitops repo>] [--key <public key .pem>] [--json]');
    return 2;
  }
  try {
    const entries = await trace(gitopsRepo(argv), env, loadPublicKey(publicKeyFile(argv)));
    if (argv.includes('--json')) {
      print(JSON.stringify({ environment: env, services: entries }, null, 2));
    } else {
      print(`${env}: ${entries.length} service(s)`);
      for (const e of entries) {
        print(`${e.service}  ${e.verified ? 'provenance verified' : 'PROVENANCE INVALID'}`);
        print(`  commit     ${e.commit ?? '?'}`);
        print(`  train      ${e.trainId ?? '?'}  change ${e.changeId ?? '?'}`);
        print(`  promoted   ${e.promotedAt ?? '?'} by ${e.promotedBy ?? '?'} in GitOps commit ${e.gitopsCommit?.slice(0, 12) ?? '?'}`);
        for (const [name, digest] of Object.entries(e.evidence ?? {})) print(`  evidence   ${name}  sha256:${digest}`);
        if (e.appeals?.length) print(`  appeals    ${JSON.stringify(e.appeals)}`);
        if (e.error) print(`  error      ${e.error}`);
      }
    }
    return entries.every((e) => e.verified) ? 0 : 1;
  } catch (err) {
    print(`trace ${env}: ${(err as Error).message}`);
    return 1;
  }
}
