/**
 * Installs the CRDs the Kubernetes deployer needs into a cluster (infra/kubernetes/crds/*.yaml; the
 * Gateway API's HTTPRoute) with server-side apply, and waits until each is Established.
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';

export const CRD_DIR = path.join(__dirname, 'crds');

export async function installCrds(kubeconfig: string, timeoutMs = 30_000): Promise<string[]> {
  return installCrdFiles(kubeconfig, yamlFiles(CRD_DIR), timeoutMs);
}

/** The .yaml files of a directory, sorted. */
export function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
}

/** Applies each file's CRD (server-side, as `maestro`) and waits until every one is Established; returns their names. */
export async function installCrdFiles(kubeconfig: string, files: string[], timeoutMs = 30_000): Promise<string[]> {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  const objects = k8s.KubernetesObjectApi.makeApiClient(config);
  const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of files) {
    const crd = parseYaml(fs.readFileSync(file, 'utf8')) as k8s.V1CustomResourceDefinition & { metadata: { name: string } };
    await objects.patch(crd, undefined, undefined, 'maestro', true, { headers: { 'content-type': k8s.PatchUtils.PATCH_FORMAT_APPLY_YAML } });
    names.push(crd.metadata.name);
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const { body } = await extensions.readCustomResourceDefinition(name);
      if (body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
  return names;
}
