/**
 * The Argo Rollouts controller (cmd/rollouts-controller, built from the Go module proxy by
 * scripts/setup-argo-rollouts.sh) run against a cluster's kubeconfig, for the Argo Rollouts deployer and its
 * test. Opt-in: the local cluster does not start it; whoever needs it calls `startArgoRolloutsController`
 * after `ensureKubernetes`. Its CRDs (the module's own manifests/crds, kept beside the binary) are installed
 * first: the controller waits on informers for all five kinds (Rollout, AnalysisRun, AnalysisTemplate,
 * ClusterAnalysisTemplate, Experiment). It runs namespaced (Role-level RBAC is enough), without leader election,
 * its metrics and healthz on the given ports.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../io/paths';
import { stopByPidFile } from '../../io/process';
import { startDetachedServer } from '../detached-server';
import { installCrdFiles, yamlFiles } from '../kubernetes/crds';

export interface ArgoRolloutsControllerOptions {
  kubeconfig: string;
  /** The one namespace it manages (--namespaced). */
  namespace: string;
  metricsPort: number;
  healthzPort: number;
  /** Its log and pid file. */
  dir: string;
  /** Holds rollouts-controller and crds/ (the link scripts/setup-argo-rollouts.sh makes). */
  binDir?: string;
}

export const DEFAULT_ARGO_ROLLOUTS_BIN_DIR = process.env.MAESTRO_ARGO_ROLLOUTS_BIN_DIR ?? path.join(PROJECT_ROOT, '.maestro', 'argo-rollouts');

export interface RunningArgoRollouts {
  pid: number;
  crds: string[];
  logFile: string;
}

export async function startArgoRolloutsController(opts: ArgoRolloutsControllerOptions, timeoutMs = 60_000): Promise<RunningArgoRollouts> {
  const binDir = opts.binDir ?? DEFAULT_ARGO_ROLLOUTS_BIN_DIR;
  const binary = path.join(binDir, 'rollouts-controller');
  if (!fs.existsSync(binary)) throw new Error(`${binary} does not exist: build the Argo Rollouts controller once with 'bash scripts/setup-argo-rollouts.sh' (cached in ~/.cache/maestro)`);
  const crds = await installCrdFiles(opts.kubeconfig, yamlFiles(path.join(binDir, 'crds')));
  const logFile = path.join(opts.dir, 'rollouts-controller.log');
  const pid = await startDetachedServer({
    name: 'the Argo Rollouts controller',
    command: binary,
    args: [
      `--kubeconfig=${opts.kubeconfig}`,
      '--namespaced',
      `--namespace=${opts.namespace}`,
      '--leader-elect=false',
      `--metricsPort=${opts.metricsPort}`,
      `--healthzPort=${opts.healthzPort}`,
      '--loglevel=info',
    ],
    // Where it looks for its (optional) config and notification ConfigMaps.
    env: { ...process.env, POD_NAMESPACE: opts.namespace },
    logFile,
    pidFile: path.join(opts.dir, 'rollouts-controller.pid'),
    address: `127.0.0.1:${opts.healthzPort}`,
    isReady: () => isHealthy(opts.healthzPort),
    timeoutMs,
  });
  return { pid, crds, logFile };
}

export function stopArgoRolloutsController(opts: Pick<ArgoRolloutsControllerOptions, 'dir' | 'healthzPort'>, timeoutMs = 20_000): Promise<boolean> {
  return stopByPidFile(path.join(opts.dir, 'rollouts-controller.pid'), opts.healthzPort, timeoutMs);
}

async function isHealthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}
