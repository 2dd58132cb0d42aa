/**
 * Provenance and GitOps activities: sign release bundles, promote them into the GitOps repository
 * behind guards, and keep the signed statement in the record.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createPrisma, type Db } from '../record/db';
import type { Environment } from '../core/change-request';
import { DEFAULT_GITOPS_REPO, ensureGitopsRepo, promote, withdraw, type WithdrawInput } from '../provenance/gitops';
import { environmentNamespace, KUBERNETES_DEFAULTS, renderEnvironment, type EnvironmentTarget } from '../core/kubernetes-manifests';
import { renderRolloutEnvironment } from '../core/argo-rollout-manifests';
import { readServiceDescriptor } from '../repo/service-descriptor';
import { DEFAULT_RELEASES_DIR, writeRelease, type ReleaseInput } from '../provenance/release';
import { loadOrCreateSigningKey, type SigningKey } from '../provenance/signing';
import { sha256Hex } from '../core/provenance';


export interface ProvenanceDeps {
  key?: SigningKey;
  keyDir?: string;
  gitopsRepo?: string;
  /** Where merge provenance bundles go (`<dir>/<trainId>/`); `maestro provenance verify <trainId>` reads them. */
  releasesDir?: string;
  prisma?: Db;
  url?: string;
  /**
   * The cluster the GitOps files are for (MAESTRO_K8S_NAMESPACE, MAESTRO_K8S_IMAGE_REPOSITORY, MAESTRO_K8S_GATEWAY);
   * each environment's namespace is the one its deployer uses (environmentNamespace).
   */
  kubernetes?: EnvironmentTarget;
}

export function createProvenanceActivities(deps: ProvenanceDeps = {}) {
  let key = deps.key;
  const signingKey = () => (key ??= loadOrCreateSigningKey(deps.keyDir));
  const releasesDir = deps.releasesDir ?? DEFAULT_RELEASES_DIR;
  const repo = deps.gitopsRepo ?? DEFAULT_GITOPS_REPO;
  let prisma = deps.prisma;
  const db = (): Db | undefined => {
    if (prisma) return prisma;
    if (deps.url) prisma = createPrisma(deps.url);
    return prisma;
  };
  async function store(trainId: string, kind: 'merge' | 'release', environment: string, envelopeFile: string, statementDigest: string) {
    const client = db();
    if (!client) return;
    const envelope = JSON.parse(fs.readFileSync(envelopeFile, 'utf8'));
    await client.provenance.upsert({
      where: { trainId_kind_environment: { trainId, kind, environment } },
      create: { trainId, kind, environment, statementDigest, envelope, keyId: signingKey().keyId },
      update: { statementDigest, envelope, keyId: signingKey().keyId },
    });
  }
  /** The objects the environment runs once the commit is promoted; the service's health path from its descriptor at that commit. */
  async function environmentManifests(environment: Environment, service: string, evidence: { repo: string; commit: string }) {
    const { healthPath } = await readServiceDescriptor(evidence.repo, evidence.commit);
    const cluster = { ...KUBERNETES_DEFAULTS, ...deps.kubernetes };
    const target = { ...cluster, namespace: environmentNamespace(cluster.namespace, environment) };
    const version = { ...target, service, sha: evidence.commit, repo: evidence.repo, healthPath, replicas: environment === 'prod' ? 3 : 1 };
    return cluster.argoRollouts ? renderRolloutEnvironment({ ...version, weights: cluster.argoRollouts.canaryWeights }) : renderEnvironment(version);
  }
  return {
    /**
     * Signs the provenance of a merge: subject `manifests/merge.json` (repository, branch, merge and
     * candidate commits), evidence = change request, eval report, policy decision. Written to
     * `<releasesDir>/<trainId>/`; rewriting it on a retry gives the same subject and evidence digests.
     */
    async recordMergeProvenance(input: Omit<ReleaseInput, 'manifests'> & { merge: { repo: string; baseBranch: string; mergeSha: string; candidateSha: string } }) {
      const manifests = { 'merge.json': JSON.stringify(input.merge, null, 2) + '\n' };
      const dir = path.join(releasesDir, input.evidence.trainId);
      const { envelope } = writeRelease(dir, { ...input, manifests, evidence: { ...input.evidence, commit: input.merge.mergeSha } }, signingKey());
      const statementDigest = sha256Hex(Buffer.from(envelope.payload, 'base64'));
      await store(input.evidence.trainId, 'merge', '', path.join(dir, 'provenance.dsse.json'), statementDigest);
      return { dir, statementDigest, keyId: signingKey().keyId };
    },

    /**
     * Renders the service's manifests at `commit`, promotes them to `environment` (guards first) with
     * signed provenance, and records the envelope. Idempotent: a retry finds the promotion in place.
     */
    async promoteRelease(input: { environment: Environment; service: string; by: string; release: Omit<ReleaseInput, 'manifests'> & { manifests?: Record<string, string> } }) {
      const manifests = input.release.manifests ?? (await environmentManifests(input.environment, input.service, input.release.evidence));
      await ensureGitopsRepo(repo);
      const result = await promote({ repo, environment: input.environment, service: input.service, by: input.by, release: { ...input.release, manifests } }, signingKey());
      const envelopeFile = path.join(repo, 'environments', input.environment, input.service, 'provenance.dsse.json');
      await store(input.release.evidence.trainId, 'release', input.environment, envelopeFile, result.statementDigest);
      return { ...result, envelopeFile };
    },

    /**
     * Takes the train's release back out of `environment` (a later environment of its promotion failed):
     * GitOps returns to the previous release, and the record marks the release withdrawn. Idempotent.
     */
    async withdrawRelease(input: Omit<WithdrawInput, 'repo'>) {
      await ensureGitopsRepo(repo);
      const result = await withdraw({ ...input, repo }, signingKey().publicKey);
      await db()?.provenance.updateMany({
        where: { trainId: input.trainId, kind: 'release', environment: input.environment, withdrawnAt: null },
        data: { withdrawnAt: new Date(), withdrawnReason: input.reason },
      });
      return result;
    },
  };
}
