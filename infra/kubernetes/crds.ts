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
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  const objects = k8s.KubernetesObjectApi.makeApiClient(config);
  const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of fs.readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    const crd = parseYaml(fs.readFileSync(path.join(CRD_DIR, file), 'utf8')) as k8s.V1CustomResourceDefinition & { metadata: { name: string } };
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
