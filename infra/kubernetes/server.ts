/**
 * A local Kubernetes control plane for the Kubernetes deployer and its tests: etcd, kube-apiserver and
 * kube-controller-manager (built from the Go module proxy by scripts/setup-kubernetes.sh), on loopback,
 * with a bearer token and RBAC. No kubelet and no scheduler run (the envtest shape): Deployments get
 * ReplicaSets and Pods, and Pods stay Pending until someone sets their status (the tests do, in the
 * kubelet's place).
 *
 * Everything lives in one directory (`dir`): etcd's data, the service-account key pair, the token file,
 * the API server's self-signed serving certificate, its CA (`ca.crt`), the kubeconfig, logs and pid
 * files. `ensureKubernetes()` reuses a control plane that already answers on the API port with this
 * directory's token; `stopKubernetes()` stops the three processes it started.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { PROJECT_ROOT, STATE } from '../../io/paths';
import { isPortOpen, stopByPidFile } from '../../io/process';
import { startDetachedServer } from '../detached-server';
import { installCrds } from './crds';

export interface KubernetesOptions {
  /** etcd's client port; its peer port is the next one. */
  etcdPort: number;
  apiPort: number;
  controllerManagerPort: number;
  /** Data, keys, certificates, kubeconfig, logs and pid files. */
  dir: string;
  /** Holds etcd, kube-apiserver and kube-controller-manager. */
  binDir: string;
}

const env = process.env;
export const defaultKubernetes: KubernetesOptions = {
  etcdPort: Number(env.MAESTRO_K8S_ETCD_PORT ?? 2379),
  apiPort: Number(env.MAESTRO_K8S_API_PORT ?? 6443),
  controllerManagerPort: Number(env.MAESTRO_K8S_CONTROLLER_MANAGER_PORT ?? 10257),
  dir: env.MAESTRO_K8S_DIR ?? path.join(STATE.root, 'kubernetes'),
  binDir: env.MAESTRO_K8S_BIN_DIR ?? path.join(PROJECT_ROOT, '.maestro', 'kubernetes-bin'),
};

/** The Service CIDR of the local cluster (Services get ClusterIPs from it; nothing routes them). */
const SERVICE_CIDR = '10.0.0.0/24';

export const kubeconfigPath = (opts: Pick<KubernetesOptions, 'dir'>) => path.join(opts.dir, 'kubeconfig');
export const apiServerUrl = (opts: Pick<KubernetesOptions, 'apiPort'>) => `https://127.0.0.1:${opts.apiPort}`;
const file = (opts: KubernetesOptions, name: string) => path.join(opts.dir, name);

export interface RunningKubernetes {
  url: string;
  kubeconfig: string;
  reused: boolean;
  pids: { etcd?: number; apiServer?: number; controllerManager?: number };
  /** The CRDs installed (infra/kubernetes/crds). */
  crds: string[];
}

/** The admin token (system:masters) of this directory's cluster, made on first use. */
function adminToken(opts: KubernetesOptions): string {
  const tokens = file(opts, 'tokens.csv');
  if (!fs.existsSync(tokens)) {
    fs.mkdirSync(opts.dir, { recursive: true });
    fs.writeFileSync(tokens, `${randomBytes(24).toString('hex')},maestro-admin,maestro-admin,"system:masters"\n`, { mode: 0o600 });
  }
  return fs.readFileSync(tokens, 'utf8').split(',')[0]!;
}

/** The key pair that signs service-account tokens (node:crypto; no openssl needed). */
function ensureServiceAccountKeys(opts: KubernetesOptions): void {
  if (fs.existsSync(file(opts, 'sa.key'))) return;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  fs.writeFileSync(file(opts, 'sa.pub'), publicKey);
  fs.writeFileSync(file(opts, 'sa.key'), privateKey, { mode: 0o600 });
}

/**
 * The CA of the API server's self-signed serving certificate: `apiserver.crt` holds the serving
 * certificate then its CA; clients and the controller manager need the CA block alone (a bundle
 * starting with the leaf is refused: "does not have the CA bit set").
 */
function readCa(opts: KubernetesOptions): string | undefined {
  try {
    const blocks = fs.readFileSync(path.join(opts.dir, 'certs', 'apiserver.crt'), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    return blocks.length >= 2 ? blocks[blocks.length - 1] : undefined;
  } catch {
    return undefined;
  }
}

function httpsStatus(url: string, options: https.RequestOptions): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = https.get(url, { ...options, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** Ready: /readyz answers 200 to this directory's token over TLS checked against its CA. */
async function isApiServerReady(opts: KubernetesOptions): Promise<boolean> {
  const ca = readCa(opts);
  if (!ca) return false;
  return (await httpsStatus(`${apiServerUrl(opts)}/readyz`, { ca, headers: { authorization: `Bearer ${adminToken(opts)}` } })) === 200;
}

async function isEtcdReady(opts: KubernetesOptions): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${opts.etcdPort}/health`, { signal: AbortSignal.timeout(2_000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

/**
 * The controller manager serves /healthz with a certificate it makes up in memory; this only asks our
 * own loopback process whether it is up, so the certificate is not checked.
 */
async function isControllerManagerReady(opts: KubernetesOptions): Promise<boolean> {
  return (await httpsStatus(`https://127.0.0.1:${opts.controllerManagerPort}/healthz`, { rejectUnauthorized: false })) === 200;
}

function writeKubeconfig(opts: KubernetesOptions, ca: string): void {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'maestro-local', cluster: { server: apiServerUrl(opts), 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: 'maestro-admin', user: { token: adminToken(opts) } }],
    contexts: [{ name: 'maestro-local', context: { cluster: 'maestro-local', user: 'maestro-admin' } }],
    'current-context': 'maestro-local',
  };
  // JSON is YAML: every kubeconfig reader (client-node, kubectl) accepts it.
  fs.writeFileSync(kubeconfigPath(opts), JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
  fs.writeFileSync(file(opts, 'ca.crt'), ca);
}

const binary = (opts: KubernetesOptions, name: string) => {
  const bin = path.join(opts.binDir, name);
  if (!fs.existsSync(bin)) throw new Error(`${name} is not built at ${bin}: run 'bash scripts/setup-kubernetes.sh' (builds etcd, kube-apiserver and kube-controller-manager from the Go module proxy), or set MAESTRO_K8S_BIN_DIR`);
  return bin;
};

/** Starts etcd, the API server and the controller manager (each detached) unless they already answer; writes the kubeconfig and installs the CRDs. */
export async function ensureKubernetes(opts: KubernetesOptions = defaultKubernetes, timeoutMs = 90_000): Promise<RunningKubernetes> {
  fs.mkdirSync(opts.dir, { recursive: true });
  const pids: RunningKubernetes['pids'] = {};
  const allReady = (await isApiServerReady(opts)) && (await isControllerManagerReady(opts));
  if (!allReady) {
    for (const port of [opts.etcdPort, opts.etcdPort + 1, opts.apiPort, opts.controllerManagerPort])
      if ((await isPortOpen(port)) && !(await ownedPort(opts, port)))
        throw new Error(`port ${port} is taken by another process: the local cluster needs ${opts.etcdPort}-${opts.etcdPort + 1} (etcd), ${opts.apiPort} (API server) and ${opts.controllerManagerPort} (controller manager); choose others with MAESTRO_K8S_ETCD_PORT / MAESTRO_K8S_API_PORT / MAESTRO_K8S_CONTROLLER_MANAGER_PORT`);
    ensureServiceAccountKeys(opts);
    adminToken(opts);
    if (!(await isEtcdReady(opts))) pids.etcd = await startEtcd(opts, timeoutMs);
    if (!(await isApiServerReady(opts))) pids.apiServer = await startApiServer(opts, timeoutMs);
  }
  writeKubeconfig(opts, readCa(opts)!);
  if (!allReady && !(await isControllerManagerReady(opts))) pids.controllerManager = await startControllerManager(opts, timeoutMs);
  const crds = await installCrds(kubeconfigPath(opts));
  return { url: apiServerUrl(opts), kubeconfig: kubeconfigPath(opts), reused: allReady, pids, crds };
}

/** A port held by one of this directory's own processes (a half-started cluster being completed). */
async function ownedPort(opts: KubernetesOptions, port: number): Promise<boolean> {
  if (port === opts.etcdPort || port === opts.etcdPort + 1) return isEtcdReady(opts);
  if (port === opts.apiPort) return isApiServerReady(opts);
  return isControllerManagerReady(opts);
}

/** One component, detached, its log and pid file named after its binary in the cluster's directory. */
function startComponent(opts: KubernetesOptions, name: string, args: string[], address: string, isReady: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  return startDetachedServer({ name, command: binary(opts, name), args, logFile: file(opts, `${name}.log`), pidFile: file(opts, `${name}.pid`), address, isReady, timeoutMs });
}

function startEtcd(opts: KubernetesOptions, timeoutMs: number): Promise<number> {
  const client = `http://127.0.0.1:${opts.etcdPort}`;
  const peer = `http://127.0.0.1:${opts.etcdPort + 1}`;
  return startComponent(
    opts,
    'etcd',
    [
      '--name=maestro',
      `--data-dir=${file(opts, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=maestro=${peer}`,
      // A local, throw-away cluster: durability per write is not worth its latency here.
      '--unsafe-no-fsync',
    ],
    client,
    () => isEtcdReady(opts),
    timeoutMs,
  );
}

function startApiServer(opts: KubernetesOptions, timeoutMs: number): Promise<number> {
  return startComponent(
    opts,
    'kube-apiserver',
    [
      `--etcd-servers=http://127.0.0.1:${opts.etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The default reconciler refuses a loopback advertise address.
      '--endpoint-reconciler-type=none',
      `--secure-port=${opts.apiPort}`,
      `--cert-dir=${path.join(opts.dir, 'certs')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${file(opts, 'sa.pub')}`,
      `--service-account-signing-key-file=${file(opts, 'sa.key')}`,
      `--token-auth-file=${file(opts, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
    ],
    apiServerUrl(opts),
    () => isApiServerReady(opts),
    timeoutMs,
  );
}

function startControllerManager(opts: KubernetesOptions, timeoutMs: number): Promise<number> {
  return startComponent(
    opts,
    'kube-controller-manager',
    [
      `--kubeconfig=${kubeconfigPath(opts)}`,
      '--authentication-skip-lookup=true',
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      '--bind-address=127.0.0.1',
      `--secure-port=${opts.controllerManagerPort}`,
      '--leader-elect=false',
      `--service-account-private-key-file=${file(opts, 'sa.key')}`,
      `--root-ca-file=${file(opts, 'ca.crt')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
    ],
    `https://127.0.0.1:${opts.controllerManagerPort}`,
    () => isControllerManagerReady(opts),
    timeoutMs,
  );
}

/** Stops what this directory's cluster started (controller manager, API server, etcd); false when none ran. */
export async function stopKubernetes(opts: KubernetesOptions = defaultKubernetes, timeoutMs = 20_000): Promise<boolean> {
  const stopped = [
    await stopByPidFile(file(opts, 'kube-controller-manager.pid'), opts.controllerManagerPort, timeoutMs),
    await stopByPidFile(file(opts, 'kube-apiserver.pid'), opts.apiPort, timeoutMs),
    await stopByPidFile(file(opts, 'etcd.pid'), opts.etcdPort, timeoutMs),
  ];
  return stopped.some(Boolean);
}
