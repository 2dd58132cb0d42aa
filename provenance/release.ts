/**
 * A release bundle: the rendered artifacts plus the evidence they were released on, and a signed
 * in-toto statement binding them together.
 *
 *   <dir>/manifests/<name>          subjects (sha256 of each file)
 *   <dir>/evidence/change-request.json, eval-report.json, policy-decision.json   (canonical JSON)
 *   <dir>/evidence/health-gates.json   the decision log of the rollout's gates (a promotion's bundle)
 *   <dir>/provenance.dsse.json      DSSE envelope (in-toto Statement v1, SLSA Provenance v1)
 *
 * `verifyRelease` checks the signature, every subject digest, every evidence digest, and that no
 * unlisted manifest was slipped in. Writing goes to a temporary directory renamed into place, so a
 * failed write leaves nothing half-written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type crypto from 'node:crypto';
import { buildStatement, canonicalJson, evidenceDigests, gitCommitOf, sha256Hex, type Envelope, type ProvenanceEvidence, type Statement } from '../core/provenance';
import { STATE } from '../io/paths';
import { ProvenanceError, signStatement, verifyEnvelope, type SigningKey } from './signing';

/** Where merge provenance bundles go, unless configured (MAESTRO_RELEASES_DIR). */
export const DEFAULT_RELEASES_DIR = STATE.releases;

export const ENVELOPE_FILE = 'provenance.dsse.json';
export const EVIDENCE_FILES = { changeRequest: 'change-request.json', evalReport: 'eval-report.json', policyDecision: 'policy-decision.json', healthGates: 'health-gates.json' } as const;

export interface ReleaseInput {
  /** name → file content (e.g. 'deployment.yaml' → YAML text). */
  manifests: Record<string, string>;
  changeRequest: unknown;
  evalReport: unknown;
  policyDecision: unknown;
  /** The rollout's decision log, signed with the promotion (absent for the merge statement: no rollout yet). */
  healthGates?: unknown;
  evidence: Omit<ProvenanceEvidence, 'changeRequestDigest' | 'evalReportDigest' | 'policyDecisionDigest' | 'healthGatesDigest'>;
}

const safeName = (name: string) => {
  if (!/^[\w.-]+(\/[\w.-]+)*$/.test(name) || name.split('/').includes('..')) throw new ProvenanceError(`bad manifest name '${name}'`);
  return name;
};

/** Writes the bundle into `dir` (replacing an older bundle there); returns the envelope and statement. */
export function writeRelease(dir: string, input: ReleaseInput, key: SigningKey): { envelope: Envelope; statement: Statement } {
  const files: Record<string, string> = {};
  for (const [name, content] of Object.entries(input.manifests)) files[`manifests/${safeName(name)}`] = content;
  const cr = canonicalJson(input.changeRequest);
  const ev = canonicalJson(input.evalReport);
  const pd = canonicalJson(input.policyDecision);
  files[`evidence/${EVIDENCE_FILES.changeRequest}`] = cr;
  files[`evidence/${EVIDENCE_FILES.evalReport}`] = ev;
  files[`evidence/${EVIDENCE_FILES.policyDecision}`] = pd;
  const hg = input.healthGates === undefined ? undefined : canonicalJson(input.healthGates);
  if (hg !== undefined) files[`evidence/${EVIDENCE_FILES.healthGates}`] = hg;
  const subjects = Object.fromEntries(Object.entries(input.manifests).map(([name, content]) => [`manifests/${name}`, sha256Hex(content)]));
  const statement = buildStatement(subjects, {
    ...input.evidence,
    changeRequestDigest: sha256Hex(cr),
    evalReportDigest: sha256Hex(ev),
    policyDecisionDigest: sha256Hex(pd),
    ...(hg !== undefined ? { healthGatesDigest: sha256Hex(hg) } : {}),
  });
  const envelope = signStatement(statement, key);
  files[ENVELOPE_FILE] = JSON.stringify(envelope, null, 2) + '\n';

  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    fs.writeFileSync(path.join(tmp, rel), content);
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const old = `${dir}.old-${process.pid}-${Date.now()}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
  return { envelope, statement };
}

export interface VerifiedRelease {
  statement: Statement;
  commit: string | undefined;
  subjects: { name: string; sha256: string }[];
  evidence: Record<string, string>;
}

function listFiles(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`]));
}

/** Verifies a bundle; throws ProvenanceError naming the first thing that does not match. */
export function verifyRelease(dir: string, publicKey: crypto.KeyObject): VerifiedRelease {
  const envFile = path.join(dir, ENVELOPE_FILE);
  if (!fs.existsSync(envFile)) throw new ProvenanceError(`no provenance at ${envFile}`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(envFile, 'utf8'));
  } catch (err) {
    throw new ProvenanceError(`${envFile} is not valid JSON: ${(err as Error).message}`);
  }
  const statement = verifyEnvelope(raw, publicKey, envFile);
  const problems: string[] = [];
  const check = (rel: string, expected: string) => {
    const file = path.join(dir, rel);
    if (!fs.existsSync(file)) {
      problems.push(`${rel} is missing (expected sha256 ${expected})`);
      return;
    }
    const actual = sha256Hex(fs.readFileSync(file));
    if (actual !== expected) problems.push(`${rel} was modified: sha256 ${actual}, the signed statement says ${expected}`);
  };
  for (const s of statement.subject) check(s.name, s.digest.sha256);
  const evidence = evidenceDigests(statement);
  for (const [name, digest] of Object.entries(evidence)) check(`evidence/${name}`, digest);
  const listed = new Set(statement.subject.map((s) => s.name));
  for (const rel of listFiles(path.join(dir, 'manifests'), 'manifests/')) if (!listed.has(rel)) problems.push(`${rel} is not covered by the provenance (added after signing)`);
  if (problems.length > 0) throw new ProvenanceError(`provenance check failed for ${dir}:\n  - ${problems.join('\n  - ')}`);
  return { statement, commit: gitCommitOf(statement), subjects: statement.subject.map((s) => ({ name: s.name, sha256: s.digest.sha256 })), evidence };
}
