/**
 * Gathers the four truths about a service — what the deployer serves, the base branch's tip, the
 * GitOps release of the environment, the record — and checks that they agree (core/invariant.ts).
 * Used by the release train at its end (activities/verify.ts) and by `maestro verify <service>`.
 */
import type crypto from 'node:crypto';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { DeployerFor, ServiceStatus } from '../core/delivery';
import { ENVIRONMENTS, type Environment } from '../core/change-request';
import { InvalidInputError } from '../core/errors';
import { compareTruths, type BaseTruth, type GitopsTruth, type InvariantReport, type RunsTruth } from '../core/invariant';
import { resolveCommit, treeOf } from '../io/git';
import { envDir } from '../provenance/gitops';
import { verifyRelease } from '../provenance/release';
import { ProvenanceError } from '../provenance/signing';
import type { RecordStore } from '../record/store';

export interface VerifyDeps {
  /** What runs in each environment. */
  deployerFor: DeployerFor;
  record: RecordStore;
  gitopsRepo: string;
  /** The provenance key, loaded only when the environment has a release to verify (a missing key is then a GitOps problem). */
  publicKey: () => crypto.KeyObject;
  /** Whether a train's workflow still runs; without it, open record rows and the lease holder are not cross-checked. */
  isTrainRunning?: (workflowId: string) => Promise<boolean>;
}

export interface VerifyInput {
  service: string;
  /** Defaults to the environment of the service's latest train. */
  environment?: string;
  /** Default to the repository and base branch of the service's latest train. */
  repo?: string;
  baseBranch?: string;
  /** The train checking itself at its end (its own lease does not count as a rollout in flight). */
  self?: string;
}

export class VerifyInputError extends InvalidInputError {}

export async function verifyService(deps: VerifyDeps, input: VerifyInput): Promise<InvariantReport> {
  const history = await deps.record.serviceHistory({ service: input.service, environment: input.environment });
  const environment = input.environment ?? history.latest?.environment;
  if (!environment)
    throw new VerifyInputError(`nothing is known about service '${input.service}': no train in the record and no --env given; run a train for it, or pass --env dev|staging|prod`);
  if (!ENVIRONMENTS.includes(environment as Environment)) throw new VerifyInputError(`unknown environment '${environment}': one of ${ENVIRONMENTS.join(', ')}`);
  const deployer = deps.deployerFor(environment as Environment);
  const status = (await deployer.hasService(input.service)) ? await deployer.status({ service: input.service }) : null;
  // The environment filter applies to promotions; open trains and the latest train are the service's in any environment.
  const scoped = input.environment ? history : await deps.record.serviceHistory({ service: input.service, environment });

  const runs = status ? await runsTruth(status) : null;
  const repo = input.repo ?? history.latest?.repo ?? status?.repo;
  const baseBranch = input.baseBranch ?? history.latest?.baseBranch;
  // The base branch describes the first environment a merge rolls out in; later ones of a promotion path may lag behind it.
  const trail = input.environment ? (await deps.record.serviceHistory({ service: input.service })).latest?.path : history.latest?.path;
  const lagsBehindBase = trail !== undefined && trail.indexOf(environment) > 0;
  const base = repo && baseBranch && !lagsBehindBase ? await baseTruth(repo, baseBranch, runs, scoped.lastMerged) : null;
  const gitops = gitopsTruth(deps, environment, input.service);

  const ask = deps.isTrainRunning;
  const open = await Promise.all(history.open.map(async (t) => ({ ...t, ...(ask ? { workflowRunning: await ask(t.trainId) } : {}) })));
  const holder = runs?.lease?.owner;
  const leaseHolderRunning = holder && ask && holder !== input.self ? await ask(holder) : undefined;
  return compareTruths(
    {
      service: input.service,
      environment,
      runs,
      base,
      ...(lagsBehindBase ? { baseNotCompared: `${environment} comes after ${trail![0]} on the path ${trail!.join(' → ')}: the base branch describes ${trail![0]}` } : {}),
      gitops,
      record: { lastPromoted: scoped.lastPromoted, lastMerged: scoped.lastMerged, open },
      ...(leaseHolderRunning !== undefined ? { leaseHolderRunning } : {}),
    },
    input.self,
  );
}

async function runsTruth(status: ServiceStatus): Promise<RunsTruth> {
  const stable = status.stable;
  return {
    stable: stable ? { sha: stable.sha, alive: stable.alive && (await answers(stable.url)), routed: status.proxy?.alive === true && status.routes?.stable === stable.url } : null,
    canary: status.canary ? { sha: status.canary.sha, alive: status.canary.alive, ...(status.canary.owner ? { owner: status.canary.owner } : {}) } : null,
    proxyAlive: status.proxy?.alive === true,
    weight: status.weight,
    lease: status.lease,
  };
}

/** Any HTTP answer counts: the process listens (its health is the gates' business). */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}


async function baseTruth(repo: string, branch: string, runs: RunsTruth | null, lastMerged: { outcome: string | null; mergeSha: string | null } | null): Promise<BaseTruth> {
  if (!existsSync(path.join(repo, '.git')) && !existsSync(path.join(repo, 'HEAD')))
    throw new VerifyInputError(`repository ${repo} does not exist (or is not a git repository); pass --repo <path>`);
  const tipSha = await resolveCommit(repo, `refs/heads/${branch}`);
  if (!tipSha) throw new VerifyInputError(`branch '${branch}' does not exist in ${repo}; pass --base <branch>`);
  // A version whose commit is not in the repository cannot be what the branch describes.
  const treeIfAny = async (sha: string) => ((await resolveCommit(repo, sha)) ? treeOf(repo, sha) : `missing ${sha}`);
  const tipTree = await treeOf(repo, tipSha);
  const sameTree = async (sha: string | undefined | null) => (sha ? (await treeIfAny(sha)) === tipTree : null);
  const unpromoted = lastMerged && lastMerged.outcome !== 'promoted' ? lastMerged.mergeSha : null;
  const stableTree = runs?.stable ? await treeIfAny(runs.stable.sha) : undefined;
  return {
    repo,
    branch,
    tipSha,
    matchesStable: runs?.stable ? stableTree === tipTree : null,
    matchesCanary: await sameTree(runs?.canary?.sha),
    carriesUnpromotedMerge: unpromoted ? (await sameTree(unpromoted)) === true && (await treeIfAny(unpromoted)) !== stableTree : null,
  };
}

function gitopsTruth(deps: VerifyDeps, environment: string, service: string): GitopsTruth {
  const dir = envDir(deps.gitopsRepo, environment, service);
  if (!existsSync(dir)) return { environment, commit: null };
  try {
    const release = verifyRelease(dir, deps.publicKey());
    const trainId = release.statement.predicate.runDetails.metadata.invocationId;
    return { environment, commit: release.commit ?? null, ...(trainId ? { trainId } : {}) };
  } catch (err) {
    if (err instanceof ProvenanceError || (err as NodeJS.ErrnoException).code === 'ENOENT') return { environment, commit: null, problem: (err as Error).message };
    throw err;
  }
}
