/** The promotion path of a change request (core/change-request.ts): what the release train's saga is given. */
import fc from 'fast-check';
import { ENVIRONMENTS, parseChangeRequest, promotionPath, type Environment } from '../../../core/change-request';
import { formatEnvironments } from '../../../cli/release';

const base = { id: 'c-1', title: 't', intent: 'i', repo: '/srv/repos/greeter', service: 'greeter', change: { kind: 'patch', diff: 'x' } };
const parse = (over: Record<string, unknown>) => parseChangeRequest({ ...base, ...over });

test('the path runs from dev up to its environment; rollback-all unless it says hold', () => {
  const cr = parse({ environment: 'prod', promotion: {} });
  expect(promotionPath(cr)).toEqual(['dev', 'staging', 'prod']);
  expect(cr.promotion?.onFailure).toBe('rollback-all');
  expect(promotionPath(parse({ environment: 'prod', promotion: { through: ['dev', 'staging'], onFailure: 'hold' } }))).toEqual(['dev', 'staging', 'prod']);
  expect(parse({ environment: 'staging', promotion: { onFailure: 'hold' } }).promotion?.onFailure).toBe('hold');
  expect(promotionPath(parse({ environment: 'staging' }))).toEqual(['staging']);
});

test('a path cannot skip an environment (GitOps would refuse it after the rollout), nor start past dev: said with the path to give', () => {
  expect(() => parse({ environment: 'prod', promotion: { through: ['dev'] } })).toThrow(
    /promotion\.through: dev is not the way to prod: a release reaches an environment only through every one before it \(GitOps refuses to skip one\), so give \[dev, staging\] or leave 'through' out/,
  );
  expect(() => parse({ environment: 'prod', promotion: { through: ['staging'] } })).toThrow(/give \[dev, staging\]/);
  expect(() => parse({ environment: 'staging', promotion: { through: ['dev', 'dev'] } })).toThrow(/dev, dev is not the way to staging/);
  expect(() => parse({ environment: 'dev', promotion: {} })).toThrow(/promotion: environment 'dev' is the first: there is nothing to promote through/);
  expect(() => parse({ environment: 'prod', promotion: { through: ['qa'] } })).toThrow(/promotion\.through\.0/);
});

test('exactly the full prefix is accepted as through, whatever else is given (a property over every list of environments)', () => {
  const env = fc.constantFrom<Environment>(...ENVIRONMENTS);
  fc.assert(
    fc.property(fc.array(env, { maxLength: 4 }), env, (through, environment) => {
      const prefix = ENVIRONMENTS.slice(0, ENVIRONMENTS.indexOf(environment));
      let accepted = true;
      try {
        expect(promotionPath(parse({ environment, promotion: { through } }))).toEqual([...through, environment]);
      } catch {
        accepted = false;
      }
      expect(accepted).toBe(prefix.length > 0 && through.join() === prefix.join());
    }),
  );
});

test("an environment's own rollout must be on the path; a migration cannot travel one yet", () => {
  const rollouts = { dev: { steps: [{ setWeight: 100 }] } };
  expect(parse({ environment: 'prod', promotion: { rollouts } }).promotion?.rollouts?.dev?.steps).toEqual([{ setWeight: 100 }]);
  expect(() => parse({ environment: 'staging', promotion: { rollouts: { prod: { steps: [{ setWeight: 100 }] } } } })).toThrow(/promotion\.rollouts\.prod: 'prod' is not on the path dev → staging/);
  expect(() =>
    parse({ environment: 'prod', promotion: {}, migration: { databaseUrl: 'postgresql://localhost/app', prisma: { fromVersion: 'v1', toVersion: 'v2' } } }),
  ).toThrow(/migration: a database migration cannot yet travel a promotion path/);
});

test('a path at a glance: each environment and its state, and what a withdrawn one runs again', () => {
  expect(formatEnvironments([{ environment: 'dev', state: 'promoted', runs: 'a'.repeat(40) }, { environment: 'staging', state: 'rolling-out' }, { environment: 'prod', state: 'pending' }])).toBe(
    'dev promoted → staging rolling-out → prod pending',
  );
  expect(formatEnvironments([{ environment: 'dev', state: 'withdrawn', runs: 'b'.repeat(40) }, { environment: 'prod', state: 'denied' }])).toBe('dev withdrawn (runs bbbbbbbbbbbb) → prod denied');
});
