import crypto from 'node:crypto';
import fc from 'fast-check';
import {
  buildStatement,
  canonicalJson,
  digestOf,
  DSSE_PAYLOAD_TYPE,
  envelopeSchema,
  evidenceDigests,
  gitCommitOf,
  IN_TOTO_STATEMENT_TYPE,
  MAESTRO_BUILD_TYPE,
  preAuthEncoding,
  sha256Hex,
  SLSA_PROVENANCE_TYPE,
  statementSchema,
  type ProvenanceEvidence,
} from '../../../core/provenance';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const evidence: fc.Arbitrary<ProvenanceEvidence> = fc.record(
  {
    trainId: fc.string({ minLength: 1 }),
    changeId: fc.string({ minLength: 1 }),
    repo: fc.oneof(fc.constant('/srv/repos/greeter'), fc.constant('https://github.com/acme/greeter')),
    commit: fc.stringMatching(/^[0-9a-f]{40}$/),
    environment: fc.constantFrom('dev', 'staging', 'prod'),
    changeRequestDigest: hex64,
    evalReportDigest: hex64,
    policyDecisionDigest: hex64,
    appeals: fc.array(fc.record({ id: fc.string(), status: fc.constantFrom('granted', 'rejected'), rules: fc.array(fc.string()) }), { maxLength: 2 }),
    startedOn: fc.constant('2026-12-01T10:00:00.000Z'),
    finishedOn: fc.constant('2026-12-01T10:05:00.000Z'),
  },
  { requiredKeys: ['trainId', 'changeId', 'repo', 'commit', 'changeRequestDigest', 'evalReportDigest', 'policyDecisionDigest'] },
);
const subjects = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), hex64, { minKeys: 1, maxKeys: 4 });

/** Keys in the order a JSON text lists them, at every level. */
function keyOrder(value: unknown): string[][] {
  if (Array.isArray(value)) return value.flatMap(keyOrder);
  if (value !== null && typeof value === 'object') return [Object.keys(value), ...Object.values(value).flatMap(keyOrder)];
  return [];
}

describe('canonicalJson and digestOf', () => {
  it('gives the same bytes for the same value whatever the key order, with keys sorted at every level', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const reversed = JSON.parse(JSON.stringify(value), (_k, v: unknown) =>
          v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        ) as unknown;
        const text = canonicalJson(value);
        expect(canonicalJson(reversed)).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        // JavaScript lists integer-like keys first whatever the insertion order, so only the others show the sort
        // (still the same bytes for the same value; it is not RFC 8785 ordering for keys like "0").
        for (const keys of keyOrder(JSON.parse(text))) {
          const named = keys.filter((k) => !/^(0|[1-9]\d*)$/.test(k));
          expect(named).toEqual([...named].sort());
        }
      }),
    );
  });

  it('drops undefined members (as JSON does) and keeps arrays in order', () => {
    expect(canonicalJson({ b: [3, { d: 1, c: undefined }, 1], a: null, u: undefined })).toBe('{"a":null,"b":[3,{"d":1},1]}');
  });

  it('keeps a "__proto__" member of parsed JSON, so it changes the digest (found by the property above)', () => {
    const withProto = JSON.parse('{"b":2,"__proto__":{"a":1}}') as unknown;
    expect(canonicalJson(withProto)).toBe('{"__proto__":{"a":1},"b":2}');
    expect(digestOf(withProto)).not.toBe(digestOf({ b: 2 }));
  });

  it('digestOf is the sha256 of the canonical JSON, and tells apart values whose canonical JSON differs', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(digestOf(a)).toBe(crypto.createHash('sha256').update(canonicalJson(a)).digest('hex'));
        expect(digestOf(a)).toMatch(/^[0-9a-f]{64}$/);
        if (canonicalJson(a) !== canonicalJson(b)) expect(digestOf(a)).not.toBe(digestOf(b));
      }),
    );
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('preAuthEncoding', () => {
  it('is "DSSEv1 <type bytes> <type> <payload bytes> <payload>", lengths counted in bytes', () => {
    expect(preAuthEncoding('application/x', Buffer.from('héllo')).toString('utf8')).toBe('DSSEv1 13 application/x 6 héllo');
  });

  it('decodes back to its type and payload for any type and payload', () => {
    fc.assert(
      fc.property(fc.string(), fc.uint8Array(), (type, payload) => {
        const pae = preAuthEncoding(type, Buffer.from(payload));
        const typeBytes = Buffer.from(type, 'utf8');
        const head = Buffer.from(`DSSEv1 ${typeBytes.length} `);
        expect(pae.subarray(0, head.length).equals(head)).toBe(true);
        expect(pae.subarray(head.length, head.length + typeBytes.length).equals(typeBytes)).toBe(true);
        const mid = Buffer.from(` ${payload.length} `);
        const rest = pae.subarray(head.length + typeBytes.length);
        expect(rest.subarray(0, mid.length).equals(mid)).toBe(true);
        expect(rest.subarray(mid.length).equals(Buffer.from(payload))).toBe(true);
      }),
    );
  });
});

describe('buildStatement', () => {
  it('is a valid in-toto statement naming every subject (sorted) and pointing at the evidence by digest', () => {
    fc.assert(
      fc.property(subjects, evidence, (subs, ev) => {
        const statement = buildStatement(subs, ev);
        expect(statementSchema.parse(statement)).toEqual(statement);
        expect(statement._type).toBe(IN_TOTO_STATEMENT_TYPE);
        expect(statement.predicateType).toBe(SLSA_PROVENANCE_TYPE);
        expect(statement.subject).toEqual(Object.keys(subs).sort().map((name) => ({ name, digest: { sha256: subs[name] } })));
        expect(evidenceDigests(statement)).toEqual({
          'change-request.json': ev.changeRequestDigest,
          'eval-report.json': ev.evalReportDigest,
          'policy-decision.json': ev.policyDecisionDigest,
        });
        expect(gitCommitOf(statement)).toBe(ev.commit);
        const { buildDefinition, runDetails } = statement.predicate;
        expect(buildDefinition.buildType).toBe(MAESTRO_BUILD_TYPE);
        expect(buildDefinition.externalParameters).toEqual({
          changeId: ev.changeId,
          ...(ev.environment ? { environment: ev.environment } : {}),
          changeRequest: { digest: { sha256: ev.changeRequestDigest } },
        });
        expect(buildDefinition.internalParameters).toEqual({
          evalReport: { digest: { sha256: ev.evalReportDigest } },
          policyDecision: { digest: { sha256: ev.policyDecisionDigest } },
          appeals: ev.appeals ?? [],
        });
        expect(runDetails.metadata).toEqual({
          invocationId: ev.trainId,
          ...(ev.startedOn ? { startedOn: ev.startedOn } : {}),
          ...(ev.finishedOn ? { finishedOn: ev.finishedOn } : {}),
        });
      }),
    );
  });

  it('names a local repository as git+file and a remote one as git+<url>, with the commit', () => {
    const ev = { trainId: 't', changeId: 'c', commit: 'a'.repeat(40), changeRequestDigest: 'b'.repeat(64), evalReportDigest: 'c'.repeat(64), policyDecisionDigest: 'd'.repeat(64) };
    const uri = (repo: string) => buildStatement({ s: 'e'.repeat(64) }, { ...ev, repo }).predicate.buildDefinition.resolvedDependencies[0]!.uri;
    expect(uri('/srv/greeter')).toBe(`git+file:///srv/greeter@${'a'.repeat(40)}`);
    expect(uri('https://example.com/g.git')).toBe(`git+https://example.com/g.git@${'a'.repeat(40)}`);
    expect(buildStatement({ s: 'e'.repeat(64) }, { ...ev, repo: '/r' }, 'https://ci.example/builder').predicate.runDetails.builder).toEqual({ id: 'https://ci.example/builder' });
    expect(buildStatement({ s: 'e'.repeat(64) }, { ...ev, repo: '/r' }).predicate.runDetails.builder.id).toBe('https://maestro-conductor.dev/builder/local');
  });

  it('refuses a statement without subjects', () => {
    const ev = { trainId: 't', changeId: 'c', repo: '/r', commit: 'a'.repeat(40), changeRequestDigest: 'b'.repeat(64), evalReportDigest: 'c'.repeat(64), policyDecisionDigest: 'd'.repeat(64) };
    expect(() => buildStatement({}, ev)).toThrow('a provenance statement needs at least one subject');
  });
});

describe('schemas', () => {
  const ev = { trainId: 't', changeId: 'c', repo: '/r', commit: 'a'.repeat(40), changeRequestDigest: 'b'.repeat(64), evalReportDigest: 'c'.repeat(64), policyDecisionDigest: 'd'.repeat(64) };

  it('name the in-toto, SLSA and DSSE types by their published URIs', () => {
    expect([IN_TOTO_STATEMENT_TYPE, SLSA_PROVENANCE_TYPE, DSSE_PAYLOAD_TYPE]).toEqual(['https://in-toto.io/Statement/v1', 'https://slsa.dev/provenance/v1', 'application/vnd.in-toto+json']);
  });

  it('reject a subject digest that is not a lowercase sha256, and a statement of another type', () => {
    const statement = buildStatement({ s: 'e'.repeat(64) }, ev);
    const subjectIssue = (sha256: string) => statementSchema.safeParse({ ...statement, subject: [{ name: 's', digest: { sha256 } }] }).error?.issues.map((i) => i.message);
    expect(subjectIssue(`x${'e'.repeat(64)}`)).toEqual(['a lowercase hex sha256']);
    expect(subjectIssue(`${'e'.repeat(64)}x`)).toEqual(['a lowercase hex sha256']);
    const { invocationId: _dropped, ...metadata } = statement.predicate.runDetails.metadata;
    expect(statementSchema.safeParse({ ...statement, predicate: { ...statement.predicate, runDetails: { ...statement.predicate.runDetails, metadata } } }).success).toBe(false);
    expect(statementSchema.safeParse({ ...statement, subject: [{ name: 's', digest: { sha256: 'E'.repeat(64) } }] }).success).toBe(false);
    expect(statementSchema.safeParse({ ...statement, subject: [{ name: 's', digest: { sha256: 'e'.repeat(63) } }] }).success).toBe(false);
    expect(statementSchema.safeParse({ ...statement, subject: [] }).success).toBe(false);
    expect(statementSchema.safeParse({ ...statement, _type: 'https://in-toto.io/Statement/v0.1' }).success).toBe(false);
  });

  it('accept a DSSE envelope only with the in-toto payload type, a payload and a signature', () => {
    const envelope = { payloadType: DSSE_PAYLOAD_TYPE, payload: 'e30=', signatures: [{ keyid: 'k', sig: 'c2ln' }] };
    expect(envelopeSchema.parse(envelope)).toEqual(envelope);
    expect(envelopeSchema.safeParse({ ...envelope, payloadType: 'text/plain' }).success).toBe(false);
    expect(envelopeSchema.safeParse({ ...envelope, payload: '' }).success).toBe(false);
    expect(envelopeSchema.safeParse({ ...envelope, signatures: [] }).success).toBe(false);
    expect(envelopeSchema.safeParse({ ...envelope, extra: 1 }).success).toBe(false);
  });
});

describe('buildStatement with the health gates', () => {
  it("names the gates' decision log among the evidence, by digest, in both places a verifier reads it", () => {
    const gates = 'd'.repeat(64);
    const s = buildStatement({ 'manifests/a.yaml': 'a'.repeat(64) }, { trainId: 't', changeId: 'c', repo: '/r', commit: 'c0ffee', changeRequestDigest: '1'.repeat(64), evalReportDigest: '2'.repeat(64), policyDecisionDigest: '3'.repeat(64), healthGatesDigest: gates });
    expect(s.predicate.buildDefinition.internalParameters?.healthGates).toEqual({ digest: { sha256: gates } });
    expect(s.predicate.buildDefinition.resolvedDependencies.at(-1)).toEqual({ name: 'health-gates.json', digest: { sha256: gates } });
    expect(evidenceDigests(s)['health-gates.json']).toBe(gates);
  });
});
