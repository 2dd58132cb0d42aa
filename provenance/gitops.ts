/**
 * GitOps: manifests rendered per commit into `environments/<env>/<service>/` of a git repository,
 * each with its signed provenance and evidence (a release bundle, see release.ts). Promotion is a
 * commit; environment guards run before anything is written. `trace` answers "what runs in <env>,
 * from which commit, by which train, on what evidence" and re-verifies it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type crypto from 'node:crypto';
import { ENVIRONMENTS, type Environment } from '../core/change-request';
import { PermanentError } from '../core/errors';
import { sha256Hex } from '../core/provenance';
import { STATE } from '../io/paths';
import { withLock } from '../io/lock';
import { git, MAESTRO_COMMIT_CONFIG } from '../io/git';
import { verifyRelease, writeRelease, type ReleaseInput, type VerifiedRelease } from './release';
import { ProvenanceError, type SigningKey } from './signing';

/** The GitOps repository promotions write to, unless configured (MAESTRO_GITOPS_REPO). */
export const DEFAULT_GITOPS_REPO = STATE.gitops;


export class GuardError extends PermanentError {
  constructor(
    readonly guard: string,
    message: string,
  ) {
    super(message, `Guard:${guard}`);
  }
}

const gitOut = async (repo: string, args: string[]): Promise<string> => (await git(repo, args)).stdout.trim();

/** Creates the GitOps repository (branch main, one commit) unless it exists. */
export async function ensureGitopsRepo(repo: string): Promise<void> {
  if (fs.existsSync(path.join(repo, '.git'))) return;
  fs.mkdirSync(repo, { recursive: true });
  await git(repo, ['init', '-q', '-b', 'main']);
  fs.writeFileSync(path.join(repo, 'README.md'), '# Environments\n\nRendered by Maestro Conductor: one directory per environment and service, each with its signed provenance.\n');
  await git(repo, ['add', '-A']);
  await git(repo, [...MAESTRO_COMMIT_CONFIG, 'commit', '-q', '-m', 'Initialise the GitOps repository']);
}

export const envDir = (repo: string, env: string, service: string) => path.join(repo, 'environments', env, service);

export interface PromoteInput {
  repo: string;
  environment: Environment;
  service: string;
  release: ReleaseInput;
  /** Identity of whoever promotes (commit author line and trailer). */
  by: string;
}

export interface PromoteResult {
  gitopsCommit: string;
  alreadyPromoted: boolean;
  statementDigest: string;
}

/**
 * Guards, then one commit: the policy decision must allow; an environment after the first needs the
 * previous environment to run the same commit with valid provenance; nothing is written when a guard fails.
 */
export async function promote(input: PromoteInput, key: SigningKey, publicKey: crypto.KeyObject = key.publicKey): Promise<PromoteResult> {
  // Trains of different services promote into one repository: one git index, so one writer at a time.
  return withLock(`${input.repo}.lock`, 120_000, () => promoteLocked(input, key, publicKey));
}

async function promoteLocked(input: PromoteInput, key: SigningKey, publicKey: crypto.KeyObject): Promise<PromoteResult> {
  const { repo, environment, service, release } = input;
  if (!ENVIRONMENTS.includes(environment)) throw new GuardError('environment', `unknown environment '${environment}'; environments: ${ENVIRONMENTS.join(' → ')}`);
  const decision = release.policyDecision as { outcome?: string; denials?: { rule: string }[] } | undefined;
  if (decision?.outcome !== 'allow')
    throw new GuardError('policy', `refusing to promote ${service} to ${environment}: the policy decision is '${decision?.outcome ?? 'missing'}'${decision?.denials ? ` (${decision.denials.map((d) => d.rule).join(', ')})` : ''}`);
  const idx = ENVIRONMENTS.indexOf(environment);
  if (idx > 0) {
    const previous = ENVIRONMENTS[idx - 1]!;
    const prevDir = envDir(repo, previous, service);
    let prev: VerifiedRelease;
    try {
      prev = verifyRelease(prevDir, publicKey);
    } catch (err) {
      throw new GuardError('order', `refusing to promote ${service} to ${environment}: ${previous} must run this commit first with valid provenance (${(err as Error).message.split('\n')[0]})`);
    }
    if (prev.commit !== release.evidence.commit)
      throw new GuardError('order', `refusing to promote ${service} @ ${release.evidence.commit.slice(0, 12)} to ${environment}: ${previous} runs ${prev.commit?.slice(0, 12) ?? 'nothing'}; promote through ${previous} first`);
  }
  await ensureGitopsRepo(repo);
  const dir = envDir(repo, environment, service);
  // Idempotent: the same commit with the same manifests and evidence is already there.
  try {
    const current = verifyRelease(dir, publicKey);
    const sameManifests = Object.entries(release.manifests).every(([n, c]) => current.subjects.some((s) => s.name === `manifests/${n}` && s.sha256 === sha256Hex(c))) && current.subjects.length === Object.keys(release.manifests).length;
    if (current.commit === release.evidence.commit && sameManifests && current.statement.predicate.runDetails.metadata.invocationId === release.evidence.trainId) {
      const head = await gitOut(repo, ['log', '-1', '--format=%H', '--', path.relative(repo, dir)]);
      return { gitopsCommit: head, alreadyPromoted: true, statementDigest: sha256Hex(fs.readFileSync(path.join(dir, 'provenance.dsse.json'))) };
    }
  } catch (err) {
    if (!(err instanceof ProvenanceError)) throw err;
  }
  const { envelope } = writeRelease(dir, { ...release, evidence: { ...release.evidence, environment } }, key);
  const statementDigest = sha256Hex(Buffer.from(envelope.payload, 'base64'));
  await git(repo, ['add', '-A', '--', path.relative(repo, dir)]);
  const message = [
    `Promote ${service} to ${environment} @ ${release.evidence.commit.slice(0, 12)}`,
    '',
    `Change ${release.evidence.changeId}, released by train ${release.evidence.trainId}.`,
    '',
    `Maestro-Train: ${release.evidence.trainId}`,
    `Maestro-Change: ${release.evidence.changeId}`,
    `Maestro-Commit: ${release.evidence.commit}`,
    `Maestro-Statement: sha256:${statementDigest}`,
    `Maestro-Promoted-By: ${input.by}`,
  ].join('\n');
  await git(repo, [...MAESTRO_COMMIT_CONFIG, 'commit', '-q', '-m', message, '--', path.relative(repo, dir)]);
  return { gitopsCommit: await gitOut(repo, ['rev-parse', 'HEAD']), alreadyPromoted: false, statementDigest };
}

export interface WithdrawInput {
  repo: string;
  environment: Environment;
  service: string;
  /** The train whose release goes back out. */
  trainId: string;
  by: string;
  reason: string;
}

export interface WithdrawResult {
  /** The commit that took the release out; null when it was no longer there (a retry, or a later release replaced it). */
  gitopsCommit: string | null;
  /** What the environment runs again: the release before it, or null when there was none. */
  restoredCommit: string | null;
}

/**
 * Takes a train's release back out of an environment: the environment's directory returns to what it held
 * before that train promoted into it (the previous release, still signed, or nothing), in one commit.
 * Idempotent: when the directory no longer holds that train's release, nothing is written.
 */
export async function withdraw(input: WithdrawInput, publicKey: crypto.KeyObject): Promise<WithdrawResult> {
  return withLock(`${input.repo}.lock`, 120_000, () => withdrawLocked(input, publicKey));
}

async function withdrawLocked(input: WithdrawInput, publicKey: crypto.KeyObject): Promise<WithdrawResult> {
  const { repo, environment, service, trainId } = input;
  const dir = envDir(repo, environment, service);
  const rel = path.relative(repo, dir);
  const releasedBy = (): { trainId?: string; commit: string | null } => {
    if (!fs.existsSync(dir)) return { commit: null };
    const v = verifyRelease(dir, publicKey);
    return { trainId: v.statement.predicate.runDetails.metadata.invocationId, commit: v.commit ?? null };
  };
  const current = releasedBy();
  if (current.trainId !== trainId) return { gitopsCommit: null, restoredCommit: current.commit };
  const promotedIn = await gitOut(repo, ['log', '-1', '--format=%H', '--', rel]);
  const before = await gitOut(repo, ['ls-tree', '-d', '--name-only', `${promotedIn}^`, '--', rel]).catch(() => '');
  await git(repo, ['rm', '-r', '-q', '--', rel]);
  if (before) await git(repo, ['checkout', `${promotedIn}^`, '--', rel]);
  const restored = releasedBy();
  const message = [
    `Roll back ${service} in ${environment} to ${restored.commit?.slice(0, 12) ?? 'nothing'}`,
    '',
    `Train ${trainId}'s release of ${current.commit?.slice(0, 12)} is withdrawn: ${input.reason}`,
    '',
    `Maestro-Withdrawn-Train: ${trainId}`,
    `Maestro-Withdrawn-Commit: ${current.commit}`,
    `Maestro-Promoted-By: ${input.by}`,
  ].join('\n');
  await git(repo, [...MAESTRO_COMMIT_CONFIG, 'commit', '-q', '-m', message, '--', rel]);
  return { gitopsCommit: await gitOut(repo, ['rev-parse', 'HEAD']), restoredCommit: restored.commit };
}

export interface TraceEntry {
  service: string;
  commit?: string;
  trainId?: string;
  changeId?: string;
  gitopsCommit?: string;
  promotedAt?: string;
  promotedBy?: string;
  evidence?: Record<string, string>;
  appeals?: unknown[];
  verified: boolean;
  error?: string;
}

/** What runs in `env`: per service, the commit, the train and the evidence, each re-verified. */
export async function trace(repo: string, env: string, publicKey: crypto.KeyObject): Promise<TraceEntry[]> {
  const root = path.join(repo, 'environments', env);
  if (!fs.existsSync(root)) throw new GuardError('environment', `nothing has been promoted to '${env}' in ${repo}`);
  const entries: TraceEntry[] = [];
  for (const service of fs.readdirSync(root).sort()) {
    const dir = path.join(root, service);
    if (!fs.statSync(dir).isDirectory()) continue;
    const log = await gitOut(repo, ['log', '-1', '--format=%H%x00%aI%x00%B', '--', path.relative(repo, dir)]).catch(() => '');
    const [gitopsCommit, promotedAt, body = ''] = log.split('\0');
    const trailer = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(body)?.[1];
    try {
      const v = verifyRelease(dir, publicKey);
      const internal = v.statement.predicate.buildDefinition.internalParameters ?? {};
      entries.push({
        service,
        commit: v.commit,
        trainId: v.statement.predicate.runDetails.metadata.invocationId,
        changeId: String(v.statement.predicate.buildDefinition.externalParameters.changeId ?? ''),
        gitopsCommit,
        promotedAt,
        promotedBy: trailer('Maestro-Promoted-By'),
        evidence: v.evidence,
        appeals: (internal.appeals as unknown[]) ?? [],
        verified: true,
      });
    } catch (err) {
      entries.push({ service, gitopsCommit, promotedAt, trainId: trailer('Maestro-Train'), commit: trailer('Maestro-Commit'), verified: false, error: (err as Error).message });
    }
  }
  return entries;
}
