import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { parseChangeRequest } from '../../../core/change-request';
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
