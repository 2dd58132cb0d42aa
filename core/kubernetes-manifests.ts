import type { Environment } from './change-request';
/**
 * The Kubernetes objects of a service's rollout, rendered purely (delivery/kubernetes-deployer.ts
 * applies them with server-side apply): per version a Deployment and a Service named
 * `<service>-<sha12>`, and per service one Gateway API HTTPRoute whose backend weights split the
 * traffic between the stable and the canary version. What the deployer must remember (which version
 * is stable, which is the canary and whose, the last promotion and rollback) lives in the route's
 * annotations, so the cluster is the deployer's only state.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from './errors';

/** The MAESTRO_K8S_* defaults: the local cluster's namespace, image repository and Gateway. */
export const KUBERNETES_DEFAULTS = { namespace: 'default', imageRepository: 'registry.local/maestro', gateway: 'maestro' } as const;

/** Each environment's namespace: MAESTRO_K8S_NAMESPACE for dev, `<namespace>-<env>` for the others (a promotion path's). */
export function environmentNamespace(namespace: string, environment: Environment): string {
  return environment === 'dev' ? namespace : `${namespace}-${environment}`;
}

/** The MAESTRO_K8S_* variables (the worker's configuration and `maestro status --k8s` read them), given the default kubeconfig. */
export function kubernetesEnvShape(defaultKubeconfig: string) {
  return {
    /** The cluster of MAESTRO_DEPLOYER=kubernetes; default the local one `maestro up --k8s` starts. */
    MAESTRO_K8S_KUBECONFIG: z.string().min(1).default(defaultKubeconfig),
    MAESTRO_K8S_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a namespace name (lower-case letters, digits and -)').default(KUBERNETES_DEFAULTS.namespace),
    /** Images are `<repository>/<service>:<sha>`, pushed by the service's CI. */
    MAESTRO_K8S_IMAGE_REPOSITORY: z.string().regex(/^[a-z0-9][a-z0-9._:/-]*[a-z0-9]$/, "an image repository, e.g. 'registry.example.com/team'").default(KUBERNETES_DEFAULTS.imageRepository),
    /** The Gateway the services' HTTPRoutes attach to (in MAESTRO_K8S_NAMESPACE). */
    MAESTRO_K8S_GATEWAY: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a Gateway name').default(KUBERNETES_DEFAULTS.gateway),
  };
}

export const MAESTRO_LABEL = 'app.kubernetes.io/managed-by';
export const SERVICE_LABEL = 'maestro.dev/service';
export const SHA_LABEL = 'maestro.dev/sha';
const ANNOTATION = {
  stable: 'maestro.dev/stable-sha',
  canary: 'maestro.dev/canary-sha',
  owner: 'maestro.dev/canary-owner',
  repo: 'maestro.dev/repo',
  healthPath: 'maestro.dev/health-path',
  lastPromotion: 'maestro.dev/last-promotion',
  lastRollback: 'maestro.dev/last-rollback',
} as const;

/** The port every version listens on inside its Pod (given to it as PORT) and its Service exposes. */
export const CONTAINER_PORT = 8080;
/**
 * A deleted Pod keeps serving this long before its container is stopped (a preStop sleep): the EndpointSlice
 * controller marks it terminating at once, but every data plane (kube-proxy, a Gateway) learns that a moment later,
 * and a request sent meanwhile to a stopped process fails. Without it each scale-down cost a request or two.
 */
export const PRE_STOP_SLEEP_SECONDS = 3;

// DNS-1123 labels: `<service>-<12 hex>` must stay within 63 characters.
const K8S_SERVICE_NAME = /^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$/;
const SHA = /^[0-9a-f]{40}$/;

export function checkKubernetesServiceName(service: string): string {
  if (!K8S_SERVICE_NAME.test(service))
    throw new InvalidInputError(
      `service '${service}' cannot name Kubernetes objects: use lower-case letters, digits and '-', at most 50 characters, starting and ending with a letter or digit`,
    );
  return service;
}

export const versionName = (service: string, sha: string) => `${checkKubernetesServiceName(service)}-${sha.slice(0, 12)}`;
/** The Secret holding the service's configuration (every version reads it through envFrom). */
export const envSecretName = (service: string) => `${checkKubernetesServiceName(service)}-env`;

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  [field: string]: unknown;
}

export interface VersionInput {
  service: string;
  namespace: string;
  sha: string;
  /** Image repository; the image is `<repository>/<service>:<sha>`. */
  imageRepository: string;
  healthPath: string;
  replicas: number;
}

/** The Pod template of one version (a Deployment's here, an Argo Rollout's in core/argo-rollout-manifests.ts). */
export function renderPodTemplate(input: Omit<VersionInput, 'namespace' | 'replicas'>): { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } {
  if (!SHA.test(input.sha)) throw new InvalidInputError(`not a full commit sha: '${input.sha}'`);
  return {
    metadata: { labels: versionLabels(input.service, input.sha) },
    spec: {
      containers: [
        {
          name: input.service,
          image: `${input.imageRepository}/${input.service}:${input.sha}`,
          ports: [{ name: 'http', containerPort: CONTAINER_PORT }],
          env: [
            { name: 'PORT', value: String(CONTAINER_PORT) },
            { name: 'HOST', value: '0.0.0.0' },
            { name: 'MAESTRO_SERVICE', value: input.service },
            { name: 'MAESTRO_SHA', value: input.sha },
          ],
          envFrom: [{ secretRef: { name: envSecretName(input.service), optional: true } }],
          readinessProbe: { httpGet: { path: input.healthPath, port: 'http' }, periodSeconds: 2 },
          lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
        },
      ],
    },
  };
}

const versionLabels = (service: string, sha: string) => ({ [MAESTRO_LABEL]: 'maestro', [SERVICE_LABEL]: service, [SHA_LABEL]: sha.slice(0, 40) });

/** The Deployment and the Service of one version of a service. */
export function renderVersion(input: VersionInput): [KubernetesObject, KubernetesObject] {
  const template = renderPodTemplate(input);
  const name = versionName(input.service, input.sha);
  const labels = versionLabels(input.service, input.sha);
  const selector = { [SERVICE_LABEL]: input.service, [SHA_LABEL]: input.sha };
  const deployment: KubernetesObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: input.namespace, labels },
    spec: { replicas: input.replicas, selector: { matchLabels: selector }, template },
  };
  const service: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: input.namespace, labels },
    spec: { selector, ports: [{ name: 'http', port: CONTAINER_PORT, targetPort: 'http' }] },
  };
  return [deployment, service];
}

export function renderEnvSecret(service: string, namespace: string, env: Record<string, string>): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: envSecretName(service), namespace, labels: { [MAESTRO_LABEL]: 'maestro', [SERVICE_LABEL]: service } },
    type: 'Opaque',
    stringData: env,
  };
}

const epochAt = z.object({ sha: z.string().regex(SHA), at: z.number().int().nonnegative() });
export type ShaAt = z.infer<typeof epochAt>;

/** What the route says about the service's rollout. */
export interface RouteState {
  repo: string;
  healthPath: string;
  stable: string;
  canary: string | null;
  owner: string | null;
  /** The canary's share of the traffic, 0–100. */
  weight: number;
  lastPromotion: ShaAt | null;
  lastRollback: ShaAt | null;
}

export interface RouteInput {
  service: string;
  namespace: string;
  /** The Gateway the route attaches to (parentRefs), in the same namespace. */
  gateway: string;
  state: RouteState;
  /** The route's resourceVersion as read: the apply fails with a conflict if someone changed it since. */
  resourceVersion?: string;
}

/** What Maestro remembers about a service's rollout, as the annotations of the object that carries it (route or Rollout). */
export function renderStateAnnotations(state: Omit<RouteState, 'weight'>): Record<string, string> {
  const annotations: Record<string, string> = { [ANNOTATION.stable]: state.stable, [ANNOTATION.repo]: state.repo, [ANNOTATION.healthPath]: state.healthPath };
  if (state.canary) annotations[ANNOTATION.canary] = state.canary;
  if (state.owner) annotations[ANNOTATION.owner] = state.owner;
  if (state.lastPromotion) annotations[ANNOTATION.lastPromotion] = JSON.stringify(state.lastPromotion);
  if (state.lastRollback) annotations[ANNOTATION.lastRollback] = JSON.stringify(state.lastRollback);
  return annotations;
}

/** Reads back what renderStateAnnotations wrote; `what` names the object for the error (e.g. "HTTPRoute 'greeter'"). */
export function readStateAnnotations(what: string, annotations: Record<string, string>): Omit<RouteState, 'weight'> {
  const a = annotations;
  const stable = a[ANNOTATION.stable];
  if (!stable || !SHA.test(stable)) throw new InvalidInputError(`${what} has no ${ANNOTATION.stable} annotation: it was not made by Maestro`);
  const shaAt = (value: string | undefined) => (value ? epochAt.parse(JSON.parse(value)) : null);
  return {
    repo: a[ANNOTATION.repo] ?? '',
    healthPath: a[ANNOTATION.healthPath] ?? '/healthz',
    stable,
    canary: a[ANNOTATION.canary] ?? null,
    owner: a[ANNOTATION.owner] ?? null,
    lastPromotion: shaAt(a[ANNOTATION.lastPromotion]),
    lastRollback: shaAt(a[ANNOTATION.lastRollback]),
  };
}

/** The service's HTTPRoute: stable gets 100 − weight, the canary (if any) weight. */
export function renderRoute(input: RouteInput): KubernetesObject {
  const { state } = input;
  const weight = checkedWeight(state.weight);
  if (weight > 0 && !state.canary) throw new InvalidInputError(`weight ${weight} for '${input.service}' without a canary`);
  const backend = (sha: string, w: number) => ({ group: '', kind: 'Service', name: versionName(input.service, sha), port: CONTAINER_PORT, weight: w });
  const backendRefs = [backend(state.stable, 100 - weight), ...(state.canary ? [backend(state.canary, weight)] : [])];
  const annotations = renderStateAnnotations(state);
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name: checkKubernetesServiceName(input.service),
      namespace: input.namespace,
      labels: { [MAESTRO_LABEL]: 'maestro', [SERVICE_LABEL]: input.service },
      annotations,
      ...(input.resourceVersion ? { resourceVersion: input.resourceVersion } : {}),
    },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: input.gateway }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs }],
    },
  };
}

/** Where a GitOps environment's objects go: the image repository and Gateway of the cluster, the namespace of the environment. */
export interface EnvironmentTarget {
  namespace: string;
  imageRepository: string;
  gateway: string;
  /** Set when Argo Rollouts delivers (MAESTRO_DEPLOYER=argo-rollouts): the files are its Rollout, not Deployments and a route. */
  argoRollouts?: { canaryWeights?: readonly number[] };
}

/**
 * What an environment runs once `sha` is promoted, as files for the GitOps repository (provenance/gitops.ts): the
 * very objects the Kubernetes deployer applies (one rendering, renderVersion and renderRoute), with the route at
 * 100% on `sha` and no canary. No times in them, so the same promotion renders the same bytes (and digests).
 */
export function renderEnvironment(input: EnvironmentTarget & { service: string; sha: string; repo: string; healthPath: string; replicas: number }): Record<string, string> {
  const [deployment, service] = renderVersion(input);
  const route = renderRoute({
    service: input.service,
    namespace: input.namespace,
    gateway: input.gateway,
    state: { repo: input.repo, healthPath: input.healthPath, stable: input.sha, canary: null, owner: null, weight: 0, lastPromotion: null, lastRollback: null },
  });
  const yaml = (object: KubernetesObject) => stringify(object, { lineWidth: 0 });
  return { 'deployment.yaml': yaml(deployment), 'service.yaml': yaml(service), 'httproute.yaml': yaml(route) };
}

const routeSchema = z.object({
  metadata: z.object({ annotations: z.record(z.string(), z.string()) }),
  spec: z.object({
    rules: z.array(z.object({ backendRefs: z.array(z.object({ name: z.string(), weight: z.number().int().min(0).max(1_000_000).optional() })) })).min(1),
  }),
});

/** Reads the rollout state back from a route this module rendered; a route edited into another shape is refused. */
export function readRouteState(service: string, route: unknown): RouteState {
  const parsed = routeSchema.safeParse(route);
  if (!parsed.success) throw new InvalidInputError(`HTTPRoute '${service}' is not one Maestro manages: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const state = readStateAnnotations(`HTTPRoute '${service}'`, parsed.data.metadata.annotations);
  const refs = parsed.data.spec.rules[0]!.backendRefs;
  const total = refs.reduce((sum, r) => sum + (r.weight ?? 1), 0);
  const canaryRef = state.canary ? refs.find((r) => r.name === versionName(service, state.canary!)) : undefined;
  // Gateway API weights are proportional; the rollout speaks in percent of the total.
  const weight = canaryRef && total > 0 ? Math.round((100 * (canaryRef.weight ?? 1)) / total) : 0;
  return { ...state, weight };
}

function checkedWeight(weight: number): number {
  if (!Number.isInteger(weight) || weight < 0 || weight > 100) throw new InvalidInputError(`weight must be an integer from 0 to 100; got ${weight}`);
  return weight;
}
