/**
 * The release train's invariant: what runs, what the base branch says, what GitOps says and what the
 * record says are one truth. `compareTruths` is the pure check; verify/service-truths.ts gathers the
 * four truths for a service (run at the end of every train and by `maestro verify`).
 */

/** What the deployer really serves: the live proxy's routes and the processes behind them. */
export interface RunsTruth {
  /** The version the deployer records as stable, and whether it answers and the live proxy routes to it. */
  stable: { sha: string; alive: boolean; routed: boolean } | null;
  canary: { sha: string; owner?: string; alive: boolean } | null;
  proxyAlive: boolean;
  /** The live proxy's canary weight (the recorded one when the proxy is down). */
  weight: number;
  lease: { owner: string; since: number } | null;
}

/** The base branch's tip, and whether its tree is the tree of each running version. */
export interface BaseTruth {
  repo: string;
  branch: string;
  tipSha: string;
  /** Same tree as the stable version (a revert that restores it counts: the branch describes what runs). */
  matchesStable: boolean | null;
  matchesCanary: boolean | null;
  /** For the latest merged train that was not promoted: whether the branch still carries its change. */
  carriesUnpromotedMerge: boolean | null;
}

export interface GitopsTruth {
  environment: string;
  /** The commit the environment's signed release names; null when nothing was ever promoted there. */
  commit: string | null;
  trainId?: string;
  /** Why the environment's release could not be read or failed its signature check. */
  problem?: string;
}

export interface RecordedTrain {
  trainId: string;
  outcome: string | null;
  mergeSha: string | null;
  closedAt: string | null;
}
export interface RecordTruth {
  /** The latest promoted train of the service in this environment. */
  lastPromoted: RecordedTrain | null;
  /** The latest closed train that merged (promoted or not). */
  lastMerged: RecordedTrain | null;
  /** Rows still `running`, with whether Temporal says the workflow runs (undefined: not asked). */
  open: (RecordedTrain & { workflowRunning?: boolean })[];
}

export interface ServiceTruths {
  service: string;
  environment: string;
  runs: RunsTruth | null;
  base: BaseTruth | null;
  /** Why the base branch was not compared (an environment later on a promotion path lags behind it by design). */
  baseNotCompared?: string;
  gitops: GitopsTruth;
  record: RecordTruth;
  /** Whether the lease holder's workflow still runs (undefined: not asked). */
  leaseHolderRunning?: boolean;
}

export type Truth = 'runs' | 'base' | 'gitops' | 'record';
export interface Disagreement {
  between: Truth[];
  what: string;
}
export interface InvariantReport {
  service: string;
  environment: string;
  held: boolean;
  /** At rest (no train holds the service) or in flight (`holder` rolls out; base may lead what runs). */
  state: 'at-rest' | 'in-flight';
  holder?: string;
  disagreements: Disagreement[];
  truths: ServiceTruths;
}

const short = (sha: string | null | undefined) => (sha ? sha.slice(0, 12) : 'nothing');

/**
 * Compares the four truths. `self` is a train checking itself at its end: its own lease does not make the
 * service in flight, because its work (promote or revert) is done.
 */
export function compareTruths(t: ServiceTruths, self?: string): InvariantReport {
  const out: Disagreement[] = [];
  const add = (between: Truth[], what: string) => out.push({ between, what });
  const holder = t.runs?.lease?.owner;
  const inFlight = holder !== undefined && holder !== self;
  const { runs, base, gitops, record } = t;
  if (gitops.problem) add(['gitops'], `the GitOps release for ${gitops.environment} does not verify: ${gitops.problem}`);

  if (!runs) {
    if (record.lastPromoted) add(['runs', 'record'], `nothing is deployed, but train ${record.lastPromoted.trainId} promoted ${short(record.lastPromoted.mergeSha)}`);
    if (gitops.commit) add(['runs', 'gitops'], `nothing is deployed, but GitOps says ${gitops.environment} runs ${short(gitops.commit)}`);
  } else {
    if (!runs.stable) add(['runs'], 'no stable version is recorded');
    else {
      if (!runs.stable.alive) add(['runs'], `stable ${short(runs.stable.sha)} does not answer its health check`);
      if (!runs.proxyAlive) add(['runs'], 'the proxy is down: nothing serves the service');
      else if (!runs.stable.routed) add(['runs'], `the live proxy does not route to the recorded stable ${short(runs.stable.sha)}`);
    }
    if (runs.weight > 0 && !runs.canary) add(['runs'], `the proxy sends ${runs.weight}% to a canary that is not recorded`);
    if (runs.canary && !inFlight)
      add(['runs'], `canary ${short(runs.canary.sha)}${runs.canary.owner ? ` of train ${runs.canary.owner}` : ''} is deployed while no train is rolling out`);
    if (inFlight && t.leaseHolderRunning === false) add(['runs', 'record'], `the lease is held by train ${holder}, which is no longer running`);

    if (runs.stable) {
      if (gitops.commit && gitops.commit !== runs.stable.sha)
        add(['runs', 'gitops'], `${gitops.environment} runs ${short(runs.stable.sha)} but GitOps says ${short(gitops.commit)}`);
      if (!gitops.commit && !gitops.problem && record.lastPromoted)
        add(['runs', 'gitops'], `GitOps has no release for ${gitops.environment}, but train ${record.lastPromoted.trainId} promoted there`);
      if (record.lastPromoted && record.lastPromoted.mergeSha !== runs.stable.sha && !inFlight)
        add(['runs', 'record'], `the record's last promotion is ${short(record.lastPromoted.mergeSha)} (train ${record.lastPromoted.trainId}) but ${short(runs.stable.sha)} runs`);
      const lastMerged = record.lastMerged;
      if (lastMerged && lastMerged.outcome !== 'promoted' && lastMerged.mergeSha === runs.stable.sha)
        add(['runs', 'record'], `train ${lastMerged.trainId} ended ${lastMerged.outcome}, but its merge ${short(lastMerged.mergeSha)} runs`);
    }
  }

  if (base && runs?.stable && !inFlight) {
    if (base.matchesStable === false)
      add(['base', 'runs'], `${base.branch} @ ${short(base.tipSha)} does not describe what runs (${short(runs.stable.sha)}): their trees differ`);
    if (base.carriesUnpromotedMerge && record.lastMerged)
      add(['base', 'record'], `${base.branch} still carries the merge of train ${record.lastMerged.trainId}, which ended ${record.lastMerged.outcome}`);
  }
  if (base && inFlight && base.matchesStable === false && base.matchesCanary === false)
    add(['base', 'runs'], `${base.branch} @ ${short(base.tipSha)} is neither the stable nor the canary version`);

  for (const train of record.open)
    if (train.workflowRunning === false) add(['record'], `the record says train ${train.trainId} is running, but its workflow has ended`);

  return {
    service: t.service,
    environment: t.environment,
    held: out.length === 0,
    state: inFlight ? 'in-flight' : 'at-rest',
    ...(holder ? { holder } : {}),
    disagreements: out,
    truths: t,
  };
}
