import path from 'node:path';
import { countProperties, formatTable, HOT_PATH_MODULES, MIN_PROPERTIES, propertiesOf } from '../../../scripts/properties';

const root = path.resolve(__dirname, '../../..');
const file = path.join(root, 'test/unit/core/example.test.ts');
const attributed = (source: string) => propertiesOf(root, file, source).map((used) => [...used].sort());

describe('properties per hot-path module (npm run properties)', () => {
  it(`every hot-path module has at least ${MIN_PROPERTIES} fast-check properties`, async () => {
    const counts = await countProperties(root);
    expect(counts.map((c) => c.module)).toEqual([...HOT_PATH_MODULES]);
    const below = counts.filter((c) => c.properties < MIN_PROPERTIES);
    expect(below.length === 0 ? 'none' : formatTable(below)).toBe('none');
  });

  it('counts a property for the modules whose values it uses, directly or through a helper of the file', () => {
    const source = `
      import fc from 'fast-check';
      import { judgeProbe } from '../../../core/health';
      import { parseRolloutPlan } from '../../../core/rollout-plan';
      import type { RiskInputs } from '../../../core/risk';
      import { summarise } from '../../../evals/scoring';
      const plan = () => parseRolloutPlan({});
      class Driver { run() { return summarise([]); } }
      it('a', () => fc.assert(fc.property(fc.nat(), (n) => judgeProbe(n as never, plan().thresholds, 1))));
      it('b', () => fc.assert(fc.asyncProperty(fc.nat(), async () => new Driver().run())));
      it('c', () => fc.assert(fc.property(fc.nat(), (n: RiskInputs | number) => n)));`;
    expect(attributed(source)).toEqual([['core/health.ts', 'core/rollout-plan.ts'], ['evals/scoring.ts'], []]);
  });

  it('counts a property over an it.each row for what the test uses, and a folder module by any file in it', () => {
    const source = `
      import fc from 'fast-check';
      import { defaultPolicy } from '../../../core/policy-rules';
      import { deny } from '../../../core/policy-rules/types';
      it.each([[defaultPolicy()]])('rules', (policy) => fc.assert(fc.property(fc.nat(), () => policy.rules.length > 0)));
      test('deny', () => fc.assert(fc.property(fc.string(), (s) => deny('r', { reason: s, evidence: s, fix: s }))));`;
    expect(attributed(source)).toEqual([['core/policy-rules'], ['core/policy-rules']]);
  });
});
