/**
 * Provenance as data: an in-toto Statement v1 with a SLSA Provenance v1 predicate, wrapped in a DSSE
 * envelope. This module builds statements, computes digests and the DSSE pre-authentication encoding;
 * signing with a key and reading files live in provenance/.
 *
 * https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
 * https://slsa.dev/spec/v1.0/provenance
 * https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
 */
// Pure-JS sha256 (no Node API), so workflow code can digest what it decides on (a gate's configuration) the same way.
import { sha256 as sha256Of } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { z } from 'zod';

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const MAESTRO_BUILD_TYPE = 'https://maestro-conductor.dev/release-train/v1';

/** JSON with object keys sorted at every level: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  // fromEntries defines every key as an own member, "__proto__" included (an assignment would set the prototype and
  // drop the member from the digest); an undefined member stays undefined and JSON.stringify leaves it out.
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
  return value;
}

export function sha256Hex(data: string | Uint8Array): string {
  return bytesToHex(sha256Of(typeof data === 'string' ? utf8ToBytes(data) : data));
}

/** sha256 of the canonical JSON of a value (change requests, eval reports, decisions). */
export function digestOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const resourceDescriptor = z
  .object({
    name: z.string().min(1).optional(),
    uri: z.string().min(1).optional(),
    digest: z.record(z.string().min(1)),
    annotations: z.record(z.unknown()).optional(),
  })
  .passthrough();
export type ResourceDescriptor = z.infer<typeof resourceDescriptor>;

export const statementSchema = z.object({
  _type: z.literal(IN_TOTO_STATEMENT_TYPE),
  subject: z.array(resourceDescriptor.extend({ name: z.string().min(1), digest: z.object({ sha256 }).passthrough() })).min(1),
  predicateType: z.literal(SLSA_PROVENANCE_TYPE),
  predicate: z.object({
    buildDefinition: z.object({
      buildType: z.string().min(1),
      externalParameters: z.record(z.unknown()),
      internalParameters: z.record(z.unknown()).optional(),
      resolvedDependencies: z.array(resourceDescriptor).min(1),
    }),
    runDetails: z.object({
      builder: z.object({ id: z.string().min(1), version: z.record(z.string()).optional() }),
      metadata: z.object({ invocationId: z.string().min(1), startedOn: z.string().optional(), finishedOn: z.string().optional() }).passthrough(),
      byproducts: z.array(resourceDescriptor).optional(),
    }),
  }),
});
export type Statement = z.infer<typeof statementSchema>;

export const envelopeSchema = z
  .object({
    payloadType: z.literal(DSSE_PAYLOAD_TYPE),
    payload: z.string().min(1),
    signatures: z.array(z.object({ keyid: z.string(), sig: z.string().min(1) })).min(1),
  })
  .strict();
export type Envelope = z.infer<typeof envelopeSchema>;

/** DSSE pre-authentication encoding: what is actually signed. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** The evidence a release statement points at, each by digest (see DESIGN.md §1 steps 4–7). */
export interface ProvenanceEvidence {
  /** The release train (workflow id). */
  trainId: string;
  changeId: string;
  /** The git repository and commit the artifacts were built from. */
  repo: string;
  commit: string;
  environment?: string;
  changeRequestDigest: string;
  evalReportDigest: string;
  policyDecisionDigest: string;
  /** The health gates' decision log (a promotion's: every probe, its figures and verdict), when the release has one. */
  healthGatesDigest?: string;
  /** Appeals decided for this train, exported into the provenance. */
  appeals?: { id: string; status: string; decidedBy?: string; rules: string[] }[];
  startedOn?: string;
  finishedOn?: string;
}

/** An in-toto statement for `subjects` (name → sha256 hex) produced from `evidence`. */
export function buildStatement(subjects: Record<string, string>, evidence: ProvenanceEvidence, builderId = 'https://maestro-conductor.dev/builder/local'): Statement {
  const names = Object.keys(subjects).sort();
  if (names.length === 0) throw new Error('a provenance statement needs at least one subject');
  const gitUri = evidence.repo.startsWith('/') ? `git+file://${evidence.repo}` : `git+${evidence.repo}`;
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: names.map((name) => ({ name, digest: { sha256: subjects[name]! } })),
    predicateType: SLSA_PROVENANCE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: MAESTRO_BUILD_TYPE,
        externalParameters: {
          changeId: evidence.changeId,
          ...(evidence.environment ? { environment: evidence.environment } : {}),
          changeRequest: { digest: { sha256: evidence.changeRequestDigest } },
        },
        internalParameters: {
          evalReport: { digest: { sha256: evidence.evalReportDigest } },
          policyDecision: { digest: { sha256: evidence.policyDecisionDigest } },
          ...(evidence.healthGatesDigest ? { healthGates: { digest: { sha256: evidence.healthGatesDigest } } } : {}),
          appeals: evidence.appeals ?? [],
        },
        resolvedDependencies: [
          { uri: `${gitUri}@${evidence.commit}`, digest: { gitCommit: evidence.commit } },
          { name: 'change-request.json', digest: { sha256: evidence.changeRequestDigest } },
          { name: 'eval-report.json', digest: { sha256: evidence.evalReportDigest } },
          { name: 'policy-decision.json', digest: { sha256: evidence.policyDecisionDigest } },
          ...(evidence.healthGatesDigest ? [{ name: 'health-gates.json', digest: { sha256: evidence.healthGatesDigest } }] : []),
        ],
      },
      runDetails: {
        builder: { id: builderId },
        metadata: { invocationId: evidence.trainId, ...(evidence.startedOn ? { startedOn: evidence.startedOn } : {}), ...(evidence.finishedOn ? { finishedOn: evidence.finishedOn } : {}) },
      },
    },
  };
}

/** The sha256 digests of the evidence files a statement names in resolvedDependencies. */
export function evidenceDigests(statement: Statement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dep of statement.predicate.buildDefinition.resolvedDependencies) if (dep.name && dep.digest.sha256) out[dep.name] = dep.digest.sha256;
  return out;
}

export function gitCommitOf(statement: Statement): string | undefined {
  return statement.predicate.buildDefinition.resolvedDependencies.find((d) => d.digest.gitCommit)?.digest.gitCommit;
}
