import fc from 'fast-check';
import { canonicalJsonForPolicy } from '../../../../core/policy-rules/canonical';
import { approvalFor, deny, findSecrets, IncompleteDenialError, matchesPathPattern, redactSecret, rolesOf, type Approval, type Roles } from '../../../../core/policy-rules';

const segment = fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/);
const relPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const awsKey = fc.tuple(fc.constantFrom('AKIA', 'ASIA'), fc.stringMatching(/^[0-9A-Z]{16}$/)).map(([p, rest]) => p + rest);

/** A unified diff of one file: `before` context lines, one removed and one added line. */
function diffOf(file: string, context: string, removed: string, added: string): string {
  return `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -1,2 +1,2 @@\n ${context}\n-${removed}\n+${added}\n`;
}

describe('findSecrets properties', () => {
  it('finds a key on an added line, at its line, never on removed or context lines, and never echoes it', () => {
    fc.assert(
      fc.property(relPath, awsKey, awsKey, fc.stringMatching(/^[a-z =]{0,12}$/), (file, secret, old, prefix) => {
        const findings = findSecrets(diffOf(`${file}.ts`, `const a = "${old}";`, `const b = "${old}";`, `${prefix}"${secret}"`));
        expect(findings).toEqual([{ file: `${file}.ts`, line: 2, kind: 'AWS access key id', redacted: `${file}.ts:2: AWS access key id: ${redactSecret(secret)}` }]);
        expect(findings[0]!.redacted).not.toContain(secret);
        expect(redactSecret(secret)).toBe(`${secret.slice(0, 4)}… (20 chars, redacted)`);
      }),
    );
  });

  it('skips files under an ignored path, and reports one finding per line even when several patterns match', () => {
    fc.assert(
      fc.property(relPath, awsKey, (dir, secret) => {
        const diff = diffOf(`${dir}/fixture.ts`, 'x', 'y', `password = "${secret}"`);
        expect(findSecrets(diff, [], [dir])).toEqual([]);
        expect(findSecrets(diff)).toHaveLength(1);
        expect(findSecrets(diff, [{ name: 'house key', regex: 'password' }], [])[0]!.kind).toBe('AWS access key id');
        expect(findSecrets(diffOf('a.ts', 'x', 'y', 'let house = 1'), [{ name: 'house key', regex: 'HOUSE' }])[0]!.kind).toBe('house key');
      }),
    );
  });
});

describe('matchesPathPattern properties', () => {
  it('a directory protects itself and everything under it, however it is spelled, and nothing beside it', () => {
    fc.assert(
      fc.property(relPath, relPath, (dir, rest) => {
        expect(matchesPathPattern(dir, dir)).toBe(true);
        expect(matchesPathPattern(`${dir}/${rest}`, dir)).toBe(true);
        expect(matchesPathPattern(`./${dir}/${rest}`, `${dir}/`)).toBe(true);
        expect(matchesPathPattern(`${dir}\\${rest.replace(/\//g, '\\')}`, `./${dir}`)).toBe(true);
        expect(matchesPathPattern(`${dir}x/${rest}`, dir)).toBe(false);
        expect(matchesPathPattern(dir, `${dir}/${rest}`)).toBe(false);
        expect(matchesPathPattern('', dir)).toBe(false);
        expect(matchesPathPattern(dir, '')).toBe(false);
      }),
    );
  });

  it('a glob protects what it matches and everything under a directory it matches', () => {
    fc.assert(
      fc.property(segment, segment, relPath, (top, name, rest) => {
        expect(matchesPathPattern(`${top}/${name}.sql`, '**/*.sql')).toBe(true);
        expect(matchesPathPattern(`${top}/${name}/${rest}`, `${top}/*`)).toBe(true);
        expect(matchesPathPattern(`${top}/${name}.ts`, '**/*.sql')).toBe(false);
      }),
    );
  });
});

describe('approvals and roles properties', () => {
  const people = ['ana', 'ben', 'cy'] as const;
  const roles: fc.Arbitrary<Roles> = fc.dictionary(fc.constantFrom('owner', 'release-manager', 'developer'), fc.subarray(['ana', 'ben', 'cy', '*']));
  const approvals: fc.Arbitrary<Approval[]> = fc.array(
    fc.record({ by: fc.constantFrom(...people), rules: fc.option(fc.subarray(['risk-above-threshold', 'protected-path-touched']), { nil: undefined }) }),
    { maxLength: 3 },
  );

  it('an approval counts only when it covers the rule and its author holds an approver role', () => {
    fc.assert(
      fc.property(roles, approvals, fc.subarray(['owner', 'release-manager', 'developer']), (r, as, approverRoles) => {
        const holds = (who: string) => approverRoles.some((role) => (r[role] ?? []).includes(who) || (r[role] ?? []).includes('*'));
        const expected = as.find((a) => (a.rules === undefined || a.rules.includes('risk-above-threshold')) && holds(a.by));
        expect(approvalFor('risk-above-threshold', approverRoles, as, r)).toBe(expected);
        for (const who of people) expect(rolesOf(who, r).sort()).toEqual(Object.keys(r).filter((role) => r[role]!.includes(who) || r[role]!.includes('*')).sort());
      }),
    );
    expect(approvalFor('risk-above-threshold', ['owner'], undefined, { owner: ['*'] })).toBeUndefined();
  });
});

describe('deny and the policy digest properties', () => {
  const text = fc.oneof(fc.string(), fc.constantFrom('', ' ', '\n\t'));

  it('a denial is made only with every field non-blank, and keeps them as given', () => {
    fc.assert(
      fc.property(text, text, text, (reason, evidence, fix) => {
        const complete = [reason, evidence, fix].every((s) => s.trim() !== '');
        if (complete) expect(deny('r', { reason, evidence, fix })).toEqual({ rule: 'r', reason, evidence, fix });
        else expect(() => deny('r', { reason, evidence, fix })).toThrow(IncompleteDenialError);
      }),
    );
    expect(() => deny(' ', { reason: 'a', evidence: 'b', fix: 'c' })).toThrow('policy rule   produced a denial with an empty rule');
    // A rule written in plain JS (or cast past the types) that leaves a field out is refused the same way, not with a TypeError.
    expect(() => deny('r', { reason: undefined as unknown as string, evidence: 'b', fix: 'c' })).toThrow(new IncompleteDenialError('policy rule r produced a denial with an empty reason'));
  });

  it('the digest of a policy does not depend on key order and changes with a value', () => {
    fc.assert(
      fc.property(fc.dictionary(segment, fc.oneof(fc.integer(), fc.string(), fc.array(fc.integer(), { maxLength: 3 }))), segment, (config, key) => {
        const reversed = Object.fromEntries(Object.entries(config).reverse());
        const digest = canonicalJsonForPolicy({ version: 1, rules: config });
        expect(digest).toMatch(/^fnv1a64:[0-9a-f]{16}$/);
        expect(canonicalJsonForPolicy({ rules: reversed, version: 1 })).toBe(digest);
        fc.pre(config[key] !== 'changed value');
        expect(canonicalJsonForPolicy({ version: 1, rules: { ...config, [key]: 'changed value' } })).not.toBe(digest);
      }),
    );
    // Against an FNV-1a 64 written from the specification (ASCII text: bytes and char codes agree).
    expect(canonicalJsonForPolicy({})).toBe(`fnv1a64:${fnv1a64('{}')}`);
  });
});

/** Reference FNV-1a 64 (offset basis and prime from the FNV specification). */
function fnv1a64(s: string): string {
  let h = 14695981039346656037n;
  for (const byte of Buffer.from(s, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 1099511628211n);
  return h.toString(16).padStart(16, '0');
}
