import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { EncryptionCodec, loadKeyRing, maestroDataConverter } from '../io/payload-codec';
import { TASK_QUEUE } from '../workflows/messages';
import { activeTracing, type Tracing } from '../io/tracing';
import type { WorkerConfig } from './config';
import { activityInterceptors } from './interceptors';

export type WorkflowSource = Pick<WorkerOptions, 'workflowsPath'> | Pick<WorkerOptions, 'workflowBundle'>;

/**
 * What every worker that runs Maestro's activities sets: the interceptor for permanent errors, and
 * heartbeats flushed at least every second, so that a cancellation (an abort) reaches a long activity
 * in about a second instead of at 80% of its heartbeat timeout.
 */
export const ACTIVITY_WORKER_OPTIONS = {
  interceptors: { activity: activityInterceptors },
  maxHeartbeatThrottleInterval: '1s',
} satisfies Partial<WorkerOptions>;

/**
 * With tracing on (io/tracing.ts), Temporal's OpenTelemetry plugin: spans for the workflow (through a
 * sink into the process's span processor), its activities and child workflows, continuing the trace the
 * starting client carried in the headers. Off, nothing: no interceptor runs.
 */
export async function tracingWorkerOptions(tracing: Tracing | undefined): Promise<Pick<WorkerOptions, 'plugins'>> {
  if (!tracing) return {};
  const { OpenTelemetryPlugin } = await import('@temporalio/interceptors-opentelemetry');
  return { plugins: [new OpenTelemetryPlugin({ resource: tracing.resource, spanProcessor: tracing.spanProcessor })] };
}

/** Builds the release-train worker; callers own connection shutdown (and tracing's, when they started it). */
export async function createReleaseWorker(
  config: WorkerConfig,
  connection: NativeConnection,
  workflows: WorkflowSource = { workflowsPath: require.resolve('../workflows') },
  tracing: Tracing | undefined = activeTracing(),
): Promise<Worker> {
  return Worker.create({
    ...(await tracingWorkerOptions(tracing)),
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.MAESTRO_TASK_QUEUE ?? TASK_QUEUE,
    activities: createActivities(activityDepsFromConfig(config)),
    ...ACTIVITY_WORKER_OPTIONS,
    maxConcurrentActivityTaskExecutions: config.MAESTRO_MAX_CONCURRENT_ACTIVITIES,
    dataConverter: maestroDataConverter(new EncryptionCodec(loadKeyRing({ stateDir: config.MAESTRO_STATE_DIR, keys: config.MAESTRO_CODEC_KEYS }))),
    ...workflows,
  });
}

function deployerFromConfig(config: WorkerConfig): ActivityDeps['deployer'] {
  const cluster = { kubeconfig: config.MAESTRO_K8S_KUBECONFIG, namespace: config.MAESTRO_K8S_NAMESPACE, imageRepository: config.MAESTRO_K8S_IMAGE_REPOSITORY };
  if (config.MAESTRO_DEPLOYER === 'kubernetes') return { kind: 'kubernetes', ...cluster, gateway: config.MAESTRO_K8S_GATEWAY };
  if (config.MAESTRO_DEPLOYER === 'argo-rollouts') return { kind: 'argo-rollouts', ...cluster, ...(config.MAESTRO_ARGO_CANARY_WEIGHTS ? { canaryWeights: config.MAESTRO_ARGO_CANARY_WEIGHTS } : {}) };
  return { kind: 'local' };
}

/** The activities' dependencies from the worker configuration. */
function activityDepsFromConfig(config: WorkerConfig): ActivityDeps {
  return {
    stateDir: config.MAESTRO_STATE_DIR,
    databaseUrl: config.MAESTRO_DATABASE_URL,
    codeGraphStore: config.MAESTRO_CODEGRAPH_STORE === 'neo4j' ? { kind: 'neo4j', uri: config.MAESTRO_NEO4J_URI } : { kind: 'memory' },
    policyFile: config.MAESTRO_POLICY_FILE,
    healthSource: config.MAESTRO_HEALTH_SOURCE === 'prometheus' ? { kind: 'prometheus', url: config.MAESTRO_PROMETHEUS_URL } : { kind: 'proxy' },
    deployer: deployerFromConfig(config),
    gitopsRepo: config.MAESTRO_GITOPS_REPO,
    gitopsCluster: {
      namespace: config.MAESTRO_K8S_NAMESPACE,
      imageRepository: config.MAESTRO_K8S_IMAGE_REPOSITORY,
      gateway: config.MAESTRO_K8S_GATEWAY,
      ...(config.MAESTRO_DEPLOYER === 'argo-rollouts' ? { argoRollouts: { canaryWeights: config.MAESTRO_ARGO_CANARY_WEIGHTS } } : {}),
    },
    releasesDir: config.MAESTRO_RELEASES_DIR,
    keyDir: config.MAESTRO_KEY_DIR,
    llmEnv: {
      MAESTRO_LLM_BASE_URL: config.MAESTRO_LLM_BASE_URL,
      MAESTRO_LLM_MODEL: config.MAESTRO_LLM_MODEL,
      MAESTRO_LLM_API_KEY: config.MAESTRO_LLM_API_KEY,
      MAESTRO_LLM_TIMEOUT_MS: config.MAESTRO_LLM_TIMEOUT_MS,
      MAESTRO_LLM_PRICE_INPUT_PER_MTOK: config.MAESTRO_LLM_PRICE_INPUT_PER_MTOK,
      MAESTRO_LLM_PRICE_OUTPUT_PER_MTOK: config.MAESTRO_LLM_PRICE_OUTPUT_PER_MTOK,
      MAESTRO_LLM_PROVIDER: config.MAESTRO_LLM_PROVIDER,
      MAESTRO_LLM_SMALL_MODEL: config.MAESTRO_LLM_SMALL_MODEL,
      MAESTRO_LLM_EMBEDDING_MODEL: config.MAESTRO_LLM_EMBEDDING_MODEL,
      MAESTRO_LLM_BUDGET_TRAIN_USD: config.MAESTRO_LLM_BUDGET_TRAIN_USD,
      MAESTRO_LLM_BUDGET_DAY_USD: config.MAESTRO_LLM_BUDGET_DAY_USD,
      MAESTRO_LLM_CACHE: config.MAESTRO_LLM_CACHE,
      MAESTRO_LLM_SEMANTIC_THRESHOLD: config.MAESTRO_LLM_SEMANTIC_THRESHOLD,
      MAESTRO_LLM_ROUTES: config.MAESTRO_LLM_ROUTES,
    },
  };
}
