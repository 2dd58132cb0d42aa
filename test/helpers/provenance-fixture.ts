/** One signed-release fixture for the provenance tests (unit and integration). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseChangeRequest } from '../../core/change-request';
import { KUBERNETES_DEFAULTS, renderEnvironment } from '../../core/kubernetes-manifests';
import type { ReleaseInput } from '../../provenance/release';
import { loadOrCreateSigningKey } from '../../provenance/signing';

export const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `maestro-${p}-`));
export const keyDir = tmp('keys');
export const key = loadOrCreateSigningKey(keyDir);
export const commit = 'c0ffee'.padEnd(40, '0');
export const cr = parseChangeRequest({ id: 'c-prov', title: 't', intent: 'i', repo: '/srv/repos/greeter', service: 'greeter', change: { kind: 'patch', diff: 'x' } });
export const evalReport = { score: 0.93, passed: true, threshold: 0.85, durationMs: 5, checks: [] };
export const allow = { outcome: 'allow', notes: ['ok'] };
export const release = (over: Partial<ReleaseInput> = {}, c = commit): ReleaseInput => ({
  manifests: renderEnvironment({ ...KUBERNETES_DEFAULTS, namespace: 'dev', service: 'greeter', sha: c, repo: cr.repo, healthPath: '/healthz', replicas: 1 }),
  changeRequest: cr,
  evalReport,
  policyDecision: allow,
  evidence: { trainId: 'train-prov', changeId: cr.id, repo: cr.repo, commit: c, appeals: [{ id: 'appeal-1', status: 'granted', decidedBy: 'rita', rules: ['risk-above-threshold'] }] },
  ...over,
});
/** A print function and what it printed. */
export const lines = () => {
  const out: string[] = [];
  return { print: (l: string) => void out.push(l), out };
};
