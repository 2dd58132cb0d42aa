import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { inlineSecretsRefusal, parseChangeRequest } from '../../../core/change-request';
import { ValidationError } from '../../../core/validation';

const base = { id: 'c-1', title: 't', intent: 'i', repo: '/srv/repos/greeter', service: 'greeter', change: { kind: 'patch', diff: 'x' } };
const parse = (over: Record<string, unknown>) => parseChangeRequest({ ...base, ...over });

describe('the change request boundary: repo path and base branch', () => {
  test.each(['/srv/../etc', '/srv/./greeter', '/srv//greeter', '/srv/greeter/', 'srv/greeter', '/srv/greeter/..'])('repo %s is refused with what is allowed', (repo) => {
    expect(() => parse({ repo })).toThrow(ValidationError);
    expect(() => parse({ repo })).toThrow(/repo/);
  });

  test.each(['../../etc', '-main', '/main', 'main/', 'a..b', 'a//b', 'main.lock', 'feature/.hidden', 'main.', 'ma in', 'main~1'])('baseBranch %s is refused', (baseBranch) => {
    expect(() => parse({ baseBranch })).toThrow(/baseBranch/);
  });

  test.each(['main', 'release/2026.12', 'feature/x-1_y', 'v1.2.3'])('baseBranch %s is accepted', (baseBranch) => {
    expect(parse({ baseBranch }).baseBranch).toBe(baseBranch);
  });

  test('every branch name the schema accepts is one git accepts (git check-ref-format --branch)', () => {
    const segment = fc.stringMatching(/^[\w.-]{1,8}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), (segments) => {
        const name = segments.join('/');
        let accepted: boolean;
        try {
          parse({ baseBranch: name });
          accepted = true;
        } catch {
          accepted = false;
        }
        if (!accepted) return;
        expect(() => execFileSync('git', ['check-ref-format', '--branch', name], { stdio: 'pipe' })).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });

  test('a normalised absolute repo path is accepted unchanged', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[\w-][\w.-]{0,7}$/), { minLength: 1, maxLength: 4 }), (segments) => {
        const repo = `/${segments.join('/')}`;
        expect(parse({ repo }).repo).toBe(repo);
      }),
    );
  });
});

describe('a change by reference', () => {
  test.each(['feature/greet', 'topic-1', '3f2a9c1', '3f2a9c1d4e5b6a7980112233445566778899aabb'])('ref %s is accepted', (ref) => {
    expect(parse({ change: { kind: 'ref', ref } }).change).toEqual({ kind: 'ref', ref });
  });
  test.each(['../main', '-x', 'a..b', 'a//b', 'x.lock', 'feature/.hidden', 'HEAD~1', 'main^', 'a b', ''])('ref %j is refused, naming the field', (ref) => {
    expect(() => parse({ change: { kind: 'ref', ref } })).toThrow(/change\.ref/);
  });
});

describe('a credential in an inline patch', () => {
  const AWS = 'AKIAQ7RZ3X5W2KDL6PNV';
  const SECRET_KEY = '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';
  const diff = `--- a/src/config.ts\n+++ b/src/config.ts\n@@ -1 +1,3 @@\n export const region = 'eu-west-1';\n+export const accessKeyId = '${AWS}';\n+export const secretAccessKey = '${SECRET_KEY}';\n`;

  test('is refused naming its kind and place, never the secret itself', () => {
    const refusal = inlineSecretsRefusal(parse({ change: { kind: 'patch', diff } }));
    expect(refusal).toMatch(/change 'c-1': the patch adds 2 likely secret\(s\); nothing was started/);
    expect(refusal).toContain('src/config.ts:2: AWS access key id');
    expect(refusal).toContain('src/config.ts:3: AWS secret access key');
    for (const secret of [AWS, SECRET_KEY]) expect(refusal).not.toContain(secret.slice(4));
  });

  test('a clean patch, a codemod and a ref are not refused', () => {
    expect(inlineSecretsRefusal(parse({ change: { kind: 'patch', diff: diff.replace(`'${AWS}'`, 'process.env.AWS_KEY').replace(`'${SECRET_KEY}'`, 'process.env.AWS_SECRET') } }))).toBeUndefined();
    expect(inlineSecretsRefusal(parse({ change: { kind: 'ref', ref: 'feature/x' } }))).toBeUndefined();
    expect(inlineSecretsRefusal(parse({ change: { kind: 'codemod', codemod: { codemod: 'rename-symbol', from: 'a', to: 'b' } } }))).toBeUndefined();
  });
});

describe('the change request boundary: a migration', () => {
  const definition = { name: 'split_name', fromVersion: 'v1', toVersion: 'v2', operations: [{ op: 'rename_column', table: 'people', from: 'name', to: 'full_name' }] };

  test('is parsed with its defaults', () => {
    const cr = parse({ migration: { databaseUrl: 'postgresql://app@127.0.0.1:5432/greeter', definition } });
    expect(cr.migration?.definition?.schema).toBe('public');
  });

  test.each(['postgresql://app:hunter2@127.0.0.1/greeter', 'mysql://app@127.0.0.1/greeter', 'not a url'])('refuses the database url %s', (databaseUrl) => {
    expect(() => parse({ migration: { databaseUrl, definition } })).toThrow(/migration\.databaseUrl: a postgresql:\/\/ url without a password/);
  });

  test('refuses an invalid migration before the train starts, naming the field', () => {
    expect(() => parse({ migration: { databaseUrl: 'postgresql://app@127.0.0.1/greeter', definition: { ...definition, operations: [{ op: 'rename_column', table: 'people', from: 'name' }] } } })).toThrow(
      /migration\.definition\.operations\.0\.to: required/,
    );
  });

  test('is written by hand or derived from the Prisma schema: exactly one of the two', () => {
    const databaseUrl = 'postgresql://app@127.0.0.1/greeter';
    const cr = parse({ migration: { databaseUrl, prisma: { fromVersion: 'v1', toVersion: 'v2', renames: [{ model: 'Person', from: 'name', to: 'fullName' }] } } });
    expect(cr.migration?.prisma).toEqual({ fromVersion: 'v1', toVersion: 'v2', schema: 'public', renames: [{ model: 'Person', from: 'name', to: 'fullName' }] });
    const either = /migration: give either 'definition' \(the migration written by hand\) or 'prisma' \(derive it from the change's schema.prisma\), not both or neither/;
    expect(() => parse({ migration: { databaseUrl } })).toThrow(either);
    expect(() => parse({ migration: { databaseUrl, definition, prisma: { fromVersion: 'v1', toVersion: 'v2' } } })).toThrow(either);
    expect(() => parse({ migration: { databaseUrl, prisma: { fromVersion: 'v1', toVersion: 'v2', renames: [{ model: 'Person', from: 'name' }] } } })).toThrow(/migration\.prisma\.renames\.0\.to: required/);
  });
});
