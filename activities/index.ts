import path from 'node:path';
import { createSpecActivities } from './spec';
import { createRepoActivities } from './repo';
import { createCodegraphActivities } from './risk';
import { CodeGraphService, type StoreConfig } from '../codegraph/service';
import { codegraphSymbolsFor } from '../specsynth/graph';
import { createEvalActivities } from './evals';
import { createPolicyActivities } from './policy';
import { createAppealActivities } from './appeals';
import { createDeliveryActivities } from './delivery';
import { LocalDeployer, localDeployDir } from '../delivery/local-deployer';
import { KubernetesDeployer, type KubernetesDeployerOptions } from '../delivery/kubernetes-deployer';
import { ArgoRolloutsDeployer, type ArgoRolloutsDeployerOptions } from '../delivery/argo-rollouts-deployer';
import type { Deployer, DeployerFor } from '../core/delivery';
import type { Environment } from '../core/change-request';
import { PrometheusHealthSource } from '../delivery/prometheus-health';
import { createRecordActivities } from './record';
import { createVerifyActivities } from './verify';
import { createMigrationActivities } from './migrations';
import { RecordStore } from '../record/store';
import { createProvenanceActivities } from './provenance';
import { TSX_CLI } from '../io/paths';
import { environmentNamespace, type EnvironmentTarget } from '../core/kubernetes-manifests';

export interface ActivityDeps {
  /** Root for Maestro's local state (work trees, deployed versions, artifacts, releases). */
  stateDir: string;
  /** The record (PostgreSQL); see infra/postgres. */
  databaseUrl: string;
  codeGraphStore?: StoreConfig;
  policyFile?: string;
  gitopsRepo?: string;
  /** The cluster the GitOps files are rendered for (namespace of dev, image repository, Gateway); default the local one's. */
  gitopsCluster?: EnvironmentTarget;
  releasesDir?: string;
  keyDir?: string;
  /** The gates' figures: the proxy's own (default) or Prometheus (PromQL over its HTTP API). */
  healthSource?: { kind: 'proxy' } | { kind: 'prometheus'; url: string };
  /**
   * Where versions run: local processes behind the proxy (default) or a Kubernetes cluster. Each environment
   * has its own: locally `<stateDir>/deploy` for dev and `deploy-<env>` for the others; on Kubernetes the
   * namespace for dev and `<namespace>-<env>` for the others.
   */
  deployer?: { kind: 'local' } | ({ kind: 'kubernetes' } & Omit<KubernetesDeployerOptions, 'lockDir'>) | ({ kind: 'argo-rollouts' } & Omit<ArgoRolloutsDeployerOptions, 'lockDir'>);
  /** MAESTRO_LLM_* for the spec provider; none: offline. */
  llmEnv?: Record<string, string | undefined>;
}


/** Every activity of the release train and the appeal workflow, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  const deployerFor = deployersByEnvironment(deps);
  const codeGraph = new CodeGraphService({ store: deps.codeGraphStore });
  const keyDir = deps.keyDir ?? path.join(deps.stateDir, 'keys');
  const gitopsRepo = deps.gitopsRepo ?? path.join(deps.stateDir, 'gitops');
  const record = new RecordStore({ url: deps.databaseUrl });
  const prometheusUrl = deps.healthSource?.kind === 'prometheus' ? deps.healthSource.url : undefined;
  return {
    ...createSpecActivities({ artifactsDir: path.join(deps.stateDir, 'artifacts', 'specs'), symbolsFor: codegraphSymbolsFor(codeGraph), env: deps.llmEnv, databaseUrl: deps.databaseUrl }),
    ...createRepoActivities({ workRoot: path.join(deps.stateDir, 'work') }),
    ...createCodegraphActivities({ service: codeGraph }),
    ...createEvalActivities({ tsxCli: TSX_CLI, artifactsDir: path.join(deps.stateDir, 'artifacts', 'evals') }),
    ...createPolicyActivities({ policyFile: deps.policyFile }),
    ...createAppealActivities({ url: deps.databaseUrl, policyFile: deps.policyFile }),
    ...createDeliveryActivities({ deployerFor, ...(prometheusUrl ? { healthSourceFor: (env: Environment) => prometheusSource(deployerFor(env), prometheusUrl) } : {}) }),
    ...createRecordActivities({ store: record }),
    ...createVerifyActivities({ deployerFor, record, gitopsRepo, keyDir }),
    ...createMigrationActivities(),
    ...createProvenanceActivities({
      url: deps.databaseUrl,
      keyDir,
      gitopsRepo,
      ...(deps.gitopsCluster ? { kubernetes: deps.gitopsCluster } : {}),
      releasesDir: deps.releasesDir ?? path.join(deps.stateDir, 'releases'),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** One deployer per environment, made when first asked for (a worker that never deploys to prod starts nothing for it). */
function deployersByEnvironment(deps: ActivityDeps): DeployerFor {
  const made = new Map<Environment, Deployer>();
  const make = (env: Environment): Deployer => {
    const dir = localDeployDir(path.join(deps.stateDir, 'deploy'), env);
    const cluster = deps.deployer?.kind === 'kubernetes' || deps.deployer?.kind === 'argo-rollouts' ? deps.deployer : null;
    if (!cluster) return new LocalDeployer({ stateDir: dir, tsxCli: TSX_CLI });
    const options = { ...cluster, namespace: environmentNamespace(cluster.namespace, env), lockDir: path.join(dir, 'kubernetes-locks') };
    return options.kind === 'argo-rollouts' ? new ArgoRolloutsDeployer(options) : new KubernetesDeployer(options);
  };
  return (env) => {
    let deployer = made.get(env);
    if (!deployer) made.set(env, (deployer = make(env)));
    return deployer;
  };
}

/** Prometheus as the health source, finding each version through the deployer's live routes. */
function prometheusSource(deployer: Deployer, url: string): PrometheusHealthSource {
  return new PrometheusHealthSource({
    url,
    routes: async (service) => {
      const status = await deployer.status({ service });
      return { stable: status.routes?.stable ?? status.stable?.url ?? null, canary: status.routes?.canary ?? status.canary?.url ?? null, weight: status.weight };
    },
  });
}
