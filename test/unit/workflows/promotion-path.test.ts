/** The promotion path of a change request (core/change-request.ts): what the release train's saga is given. */
import fc from 'fast-check';
import { ENVIRONMENTS, parseChangeRequest, promotionPath, type Environment } from '../../../core/change-request';
import { formatEnvironments } from '../../../cli/release';

const base = { id: 'c-1', title: 't', intent: 'i', repo: '/srv/repos/greeter', service: 'greeter', change: { kind: 'patch', diff: 'x' } };
const parse = (over: Record<string, unknown>) => parseChangeRequest({ ...base, ...over });

test('the path is the environments it goes through, then its environment; rollback-all unless it says hold', () => {
  const cr = parse({ environment: 'prod', promotion: { through: ['dev', 'staging'] } });
  expect(promotionPath(cr)).toEqual(['dev', 'staging', 'prod']);
  expect(cr.promotion?.onFailure).toBe('rollback-all');
  expect(parse({ environment: 'prod', promotion: { through: ['staging'], onFailure: 'hold' } }).promotion?.onFailure).toBe('hold');
  expect(promotionPath(parse({ environment: 'staging' }))).toEqual(['staging']);
});

test('a path must follow dev → staging → prod, each once, ending before its environment: said with the path it got', () => {
  expect(() => parse({ environment: 'staging', promotion: { through: ['prod'] } })).toThrow(/promotion\.through: the path prod → staging must follow dev → staging → prod/);
  expect(() => parse({ environment: 'prod', promotion: { through: ['dev', 'dev'] } })).toThrow(/the path dev → dev → prod/);
  expect(() => parse({ environment: 'dev', promotion: { through: ['dev'] } })).toThrow(/ending before environment 'dev'/);
  expect(() => parse({ environment: 'prod', promotion: { through: [] } })).toThrow(/promotion\.through/);
  expect(() => parse({ environment: 'prod', promotion: { through: ['qa'] } })).toThrow(/promotion\.through\.0/);
});

test("every ordered path is accepted and every other refused (a property over all paths of the three environments)", () => {
  const env = fc.constantFrom<Environment>(...ENVIRONMENTS);
  fc.assert(
    fc.property(fc.array(env, { minLength: 1, maxLength: 4 }), env, (through, environment) => {
      const order = [...through, environment].map((e) => ENVIRONMENTS.indexOf(e));
      const ordered = order.every((o, i) => i === 0 || o > order[i - 1]!);
      let accepted = true;
      try {
        expect(promotionPath(parse({ environment, promotion: { through } }))).toEqual([...through, environment]);
      } catch {
        accepted = false;
      }
      expect(accepted).toBe(ordered);
    }),
  );
});

test("an environment's own rollout must be on the path; a migration cannot travel one yet", () => {
  const rollouts = { dev: { steps: [{ setWeight: 100 }] } };
  expect(parse({ environment: 'prod', promotion: { through: ['dev'], rollouts } }).promotion?.rollouts?.dev?.steps).toEqual([{ setWeight: 100 }]);
  expect(() => parse({ environment: 'prod', promotion: { through: ['staging'], rollouts } })).toThrow(/promotion\.rollouts\.dev: 'dev' is not on the path staging → prod/);
  expect(() =>
    parse({ environment: 'prod', promotion: { through: ['dev'] }, migration: { databaseUrl: 'postgresql://localhost/app', prisma: { fromVersion: 'v1', toVersion: 'v2' } } }),
  ).toThrow(/migration: a database migration cannot yet travel a promotion path/);
});

test('a path at a glance: each environment and its state, and what a withdrawn one runs again', () => {
  expect(formatEnvironments([{ environment: 'dev', state: 'promoted', runs: 'a'.repeat(40) }, { environment: 'staging', state: 'rolling-out' }, { environment: 'prod', state: 'pending' }])).toBe(
    'dev promoted → staging rolling-out → prod pending',
  );
  expect(formatEnvironments([{ environment: 'dev', state: 'withdrawn', runs: 'b'.repeat(40) }, { environment: 'prod', state: 'denied' }])).toBe('dev withdrawn (runs bbbbbbbbbbbb) → prod denied');
});
