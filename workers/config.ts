import { z } from 'zod';
import { parseOrThrow } from '../core/validation';
import { defaultPostgres, serverUrl } from '../infra/postgres/server';
import { defaultPrometheus, prometheusUrl } from '../infra/prometheus/server';
import { defaultKubernetes, kubeconfigPath } from '../infra/kubernetes/server';
import { DEFAULT_STATE_DIR } from '../io/paths';
import { codecKeysEnvSchema } from '../io/payload-codec';
import { otlpEndpointSchema } from '../io/tracing';
import { kubernetesEnvShape } from '../core/kubernetes-manifests';
import { canaryWeightsFromText } from '../core/argo-rollout-manifests';

const workerVariables = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^[\w.-]+:\d+$/, "host:port, e.g. '127.0.0.1:7233'").default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  MAESTRO_STATE_DIR: z.string().default(DEFAULT_STATE_DIR),
  /** The record; the default is the project's own PostgreSQL (infra/postgres, started by `maestro up`). */
  MAESTRO_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgresql:// url').default(serverUrl(defaultPostgres)),
  MAESTRO_TASK_QUEUE: z.string().min(1).optional(),
  MAESTRO_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(20),
  /** 'neo4j' keeps code graphs in Neo4j at MAESTRO_NEO4J_URI; 'memory' keeps them in the worker. */
  MAESTRO_CODEGRAPH_STORE: z.enum(['memory', 'neo4j']).default('memory'),
  MAESTRO_NEO4J_URI: z.string().regex(/^(bolt|neo4j)(\+s|\+ssc)?:\/\//, 'a bolt:// or neo4j:// url').default('bolt://127.0.0.1:7687'),
  /** Where the rollout gates' figures come from: the proxy's own ('proxy') or PromQL against MAESTRO_PROMETHEUS_URL. */
  MAESTRO_HEALTH_SOURCE: z.enum(['proxy', 'prometheus']).default('proxy'),
  MAESTRO_PROMETHEUS_URL: z.string().regex(/^https?:\/\/[^/]+\/?$/, "an http:// base url, e.g. 'http://127.0.0.1:9090'").default(prometheusUrl(defaultPrometheus)),
  /** Where versions run: 'local' (processes behind the weighted proxy), 'kubernetes' (Deployments, Services, an HTTPRoute) or 'argo-rollouts' (one Argo Rollout per service). */
  MAESTRO_DEPLOYER: z.enum(['local', 'kubernetes', 'argo-rollouts']).default('local'),
  /** The weights an Argo Rollout's canary steps stop at, e.g. "10,50,100" (MAESTRO_DEPLOYER=argo-rollouts). */
  MAESTRO_ARGO_CANARY_WEIGHTS: canaryWeightsFromText.optional(),
  ...kubernetesEnvShape(kubeconfigPath(defaultKubernetes)),
  MAESTRO_POLICY_FILE: z.string().min(1).optional(),
  MAESTRO_GITOPS_REPO: z.string().min(1).optional(),
  MAESTRO_RELEASES_DIR: z.string().min(1).optional(),
  MAESTRO_KEY_DIR: z.string().min(1).optional(),
  /** Payload encryption keys `id:base64[,…]` (first encrypts); unset: the key file under MAESTRO_STATE_DIR. */
  MAESTRO_CODEC_KEYS: codecKeysEnvSchema.optional(),
  /** The LLM spec provider (validated by specsynth/openai.ts when the activities are built); unset: offline. */
  MAESTRO_LLM_BASE_URL: z.string().optional(),
  MAESTRO_LLM_MODEL: z.string().optional(),
  MAESTRO_LLM_API_KEY: z.string().optional(),
  MAESTRO_LLM_TIMEOUT_MS: z.string().optional(),
  MAESTRO_LLM_PRICE_INPUT_PER_MTOK: z.string().optional(),
  MAESTRO_LLM_PRICE_OUTPUT_PER_MTOK: z.string().optional(),
  /** The LLM gateway (validated by llm/gateway.ts createGateway): provider, small tier, embeddings, caps, cache, routes. */
  MAESTRO_LLM_PROVIDER: z.string().optional(),
  MAESTRO_LLM_SMALL_MODEL: z.string().optional(),
  MAESTRO_LLM_EMBEDDING_MODEL: z.string().optional(),
  MAESTRO_LLM_BUDGET_TRAIN_USD: z.string().optional(),
  MAESTRO_LLM_BUDGET_DAY_USD: z.string().optional(),
  MAESTRO_LLM_CACHE: z.string().optional(),
  MAESTRO_LLM_SEMANTIC_THRESHOLD: z.string().optional(),
  MAESTRO_LLM_ROUTES: z.string().optional(),
  /** OTLP/HTTP endpoint of the tracing backend (e.g. Jaeger's); unset: tracing off (io/tracing.ts). */
  MAESTRO_OTLP_ENDPOINT: otlpEndpointSchema.optional(),
});
const workerConfigSchema = workerVariables.superRefine((c, ctx) => {
  // Pods have no Maestro proxy in front of them, so the only figures are the cluster's metrics.
  if (c.MAESTRO_DEPLOYER !== 'local' && c.MAESTRO_HEALTH_SOURCE !== 'prometheus')
    ctx.addIssue({ code: 'custom', path: ['MAESTRO_HEALTH_SOURCE'], message: `MAESTRO_DEPLOYER=${c.MAESTRO_DEPLOYER} needs MAESTRO_HEALTH_SOURCE=prometheus: there is no Maestro proxy in the cluster to count requests` });
});
export type WorkerConfig = z.output<typeof workerConfigSchema>;

export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const picked = Object.fromEntries(Object.keys(workerVariables.shape).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  return parseOrThrow(workerConfigSchema, picked, 'worker configuration (environment variables)');
}
