/**
 * The objects of a service delivered through Argo Rollouts, rendered purely (delivery/argo-rollouts-deployer.ts
 * applies them): one argoproj.io/v1alpha1 Rollout per service whose canary steps Maestro drives, and one v1
 * Service selecting all of the service's Pods. Without a traffic router Argo splits the traffic by replica
 * counts (a weight is the canary's share of the Pods behind that Service); a team that runs a router adds
 * `spec.strategy.canary.trafficRouting` with its own field manager and Argo moves the router's weights instead.
 *
 * The steps are a ladder: a leading pause (a new version waits at weight 0 until Maestro asks for the first
 * weight), then `setWeight: w` followed by an indefinite `pause: {}` for each weight of the ladder. Maestro
 * moves the Rollout to the step of a weight by setting status.currentStepIndex, which is what
 * `kubectl argo rollouts promote` does for a Rollout without pause conditions. What Maestro remembers
 * (stable, canary and its train, last promotion and rollback) is in the Rollout's annotations, as on the
 * HTTPRoute of the Kubernetes deployer.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from './errors';
import {
  CONTAINER_PORT,
  MAESTRO_LABEL,
  SERVICE_LABEL,
  checkKubernetesServiceName,
  readStateAnnotations,
  renderPodTemplate,
  renderStateAnnotations,
  type KubernetesObject,
  type RouteState,
  type VersionInput,
} from './kubernetes-manifests';

export const ROLLOUT_API_VERSION = 'argoproj.io/v1alpha1';
/** The label Argo puts on each ReplicaSet (and its Pods): the hash status.stableRS and currentPodHash name. */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';
/** The ladder when none is configured: the default plan's 10 → 50 → 100 and the usual steps between. */
export const DEFAULT_CANARY_WEIGHTS: readonly number[] = [1, 5, 10, 20, 25, 50, 75, 100];

export const canaryWeightsSchema = z
  .array(z.number().int().min(1).max(100))
  .min(1)
  .refine((weights) => weights.every((w, i) => i === 0 || w > weights[i - 1]!), 'canary weights must increase')
  .refine((weights) => weights.at(-1) === 100, 'the last canary weight must be 100');

/** MAESTRO_ARGO_CANARY_WEIGHTS, e.g. "10,50,100". */
export const canaryWeightsFromText = z
  .string()
  .transform((text) => text.split(',').map((w) => Number(w.trim())))
  .pipe(canaryWeightsSchema);

type Step = { setWeight: number } | { pause: Record<string, never> };

/** [pause, setWeight w1, pause, setWeight w2, pause, …]. */
export function canarySteps(weights: readonly number[]): Step[] {
  return [{ pause: {} }, ...weights.flatMap((setWeight): Step[] => [{ setWeight }, { pause: {} }])];
}

/** The index of the `setWeight` step of a weight on the ladder; the pause after it is the next index. */
export function setWeightStepIndex(weights: readonly number[], weight: number): number {
  const at = weights.indexOf(weight);
  if (at === -1)
    throw new InvalidInputError(`weight ${weight} is not a step of the Rollout's canary ladder (${weights.join(', ')}): add it to MAESTRO_ARGO_CANARY_WEIGHTS or use a plan with these weights`);
  return 1 + 2 * at;
}

/** The canary's weight at a step index: that of the last setWeight step at or before it, as Argo counts (0 before the first). */
export function weightAtStep(weights: readonly number[], stepIndex: number): number {
  const passed = Math.min(Math.floor((stepIndex + 1) / 2), weights.length); // setWeight steps are the odd indices
  return passed === 0 ? 0 : weights[passed - 1]!;
}

export interface RolloutInput extends VersionInput {
  weights: readonly number[];
  /** Maestro's memory of the rollout, kept in annotations. */
  state: Omit<RouteState, 'weight'>;
  /** The Rollout's resourceVersion as read: the apply fails with a conflict if someone changed it since. */
  resourceVersion?: string;
}

/** The Rollout of a service running `sha` (the canary while one is deployed, else the stable). */
export function renderRollout(input: RolloutInput): KubernetesObject {
  return {
    apiVersion: ROLLOUT_API_VERSION,
    kind: 'Rollout',
    metadata: {
      name: checkKubernetesServiceName(input.service),
      namespace: input.namespace,
      labels: { [MAESTRO_LABEL]: 'maestro', [SERVICE_LABEL]: input.service },
      annotations: renderStateAnnotations(input.state),
      ...(input.resourceVersion ? { resourceVersion: input.resourceVersion } : {}),
    },
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: { [SERVICE_LABEL]: input.service } },
      template: renderPodTemplate(input),
      strategy: { canary: { steps: canarySteps(canaryWeightsSchema.parse(input.weights)) } },
    },
  };
}

/** The Service in front of every Pod of the service, stable and canary alike (Argo's basic canary). */
export function renderRolloutService(service: string, namespace: string): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: checkKubernetesServiceName(service), namespace, labels: { [MAESTRO_LABEL]: 'maestro', [SERVICE_LABEL]: service } },
    spec: { selector: { [SERVICE_LABEL]: service }, ports: [{ name: 'http', port: CONTAINER_PORT, targetPort: 'http' }] },
  };
}

/**
 * What an environment runs once `sha` is promoted, as files for the GitOps repository when Argo Rollouts delivers:
 * the very Rollout the deployer applies, on `sha` alone (no canary), and its Service. No times in them, so the same
 * promotion renders the same bytes (and digests).
 */
export function renderRolloutEnvironment(input: Omit<RolloutInput, 'state' | 'resourceVersion' | 'weights'> & { repo: string; weights?: readonly number[] }): Record<string, string> {
  const state = { repo: input.repo, healthPath: input.healthPath, stable: input.sha, canary: null, owner: null, lastPromotion: null, lastRollback: null };
  const rollout = renderRollout({ ...input, weights: input.weights ?? DEFAULT_CANARY_WEIGHTS, state });
  const yaml = (object: KubernetesObject) => stringify(object, { lineWidth: 0 });
  return { 'rollout.yaml': yaml(rollout), 'service.yaml': yaml(renderRolloutService(input.service, input.namespace)) };
}

const rolloutSchema = z.object({
  metadata: z.object({ generation: z.number().int().optional(), resourceVersion: z.string(), annotations: z.record(z.string(), z.string()).default({}) }),
  spec: z.object({ paused: z.boolean().optional() }).passthrough(),
  status: z
    .object({
      observedGeneration: z.string().optional(),
      currentStepIndex: z.number().int().optional(),
      pauseConditions: z.array(z.object({ reason: z.string() })).nullish(),
      controllerPause: z.boolean().optional(),
      abort: z.boolean().optional(),
      promoteFull: z.boolean().optional(),
      stableRS: z.string().optional(),
      currentPodHash: z.string().optional(),
      phase: z.string().optional(),
      message: z.string().optional(),
      replicas: z.number().int().optional(),
      updatedReplicas: z.number().int().optional(),
      availableReplicas: z.number().int().optional(),
    })
    .default({}),
});

/** What Argo reports about a Rollout, and what Maestro remembers of it. */
export interface RolloutProgress {
  state: Omit<RouteState, 'weight'>;
  resourceVersion: string;
  /** Argo has seen the latest spec (status.observedGeneration is metadata.generation, as a string). */
  observed: boolean;
  stepIndex: number | null;
  /** Stopped at a pause step (Argo's pause conditions) or paused by spec. */
  paused: boolean;
  aborted: boolean;
  stableHash: string | null;
  currentHash: string | null;
  phase: string | null;
  message: string | null;
  /** The canary's weight as the steps say: 0 once aborted or with no canary. */
  weight: number;
  /** Pods of the current pod template (the canary's while there is one) and available Pods of all versions. */
  canaryReplicas: number;
  availableReplicas: number;
}

export function readRolloutProgress(service: string, weights: readonly number[], rollout: unknown): RolloutProgress {
  const parsed = rolloutSchema.safeParse(rollout);
  if (!parsed.success) throw new InvalidInputError(`Rollout '${service}' is not one Maestro can read: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { metadata, spec, status } = parsed.data;
  const stepIndex = status.currentStepIndex ?? null;
  const stableHash = status.stableRS ?? null;
  const currentHash = status.currentPodHash ?? null;
  const aborted = status.abort === true;
  const hasCanary = currentHash !== null && currentHash !== stableHash;
  return {
    state: readStateAnnotations(`Rollout '${service}'`, metadata.annotations),
    resourceVersion: metadata.resourceVersion,
    observed: status.observedGeneration !== undefined && status.observedGeneration === String(metadata.generation ?? ''),
    stepIndex,
    paused: (status.pauseConditions?.length ?? 0) > 0 || spec.paused === true,
    aborted,
    stableHash,
    currentHash,
    phase: status.phase ?? null,
    message: status.message ?? null,
    weight: hasCanary && !aborted && stepIndex !== null ? weightAtStep(weights, stepIndex) : 0,
    canaryReplicas: status.updatedReplicas ?? 0,
    availableReplicas: status.availableReplicas ?? 0,
  };
}
