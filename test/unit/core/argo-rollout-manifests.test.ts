import fc from 'fast-check';
import { parse } from 'yaml';
import { DEFAULT_CANARY_WEIGHTS, canarySteps, canaryWeightsFromText, readRolloutProgress, renderRollout, renderRolloutEnvironment, setWeightStepIndex, weightAtStep } from '../../../core/argo-rollout-manifests';

const V1 = 'a'.repeat(40);
const V2 = 'b'.repeat(40);
const state = { repo: '/repo', healthPath: '/healthz', stable: V1, canary: V2, owner: 'train-1', lastPromotion: null, lastRollback: null };

test('the ladder: a leading pause, then setWeight and an indefinite pause per weight', () => {
  expect(canarySteps([10, 50, 100])).toEqual([{ pause: {} }, { setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }, { pause: {} }]);
  expect([10, 50, 100].map((w) => setWeightStepIndex([10, 50, 100], w))).toEqual([1, 3, 5]);
  expect(() => setWeightStepIndex([10, 50, 100], 25)).toThrow(/weight 25 is not a step of the Rollout's canary ladder \(10, 50, 100\): add it to MAESTRO_ARGO_CANARY_WEIGHTS/);
  expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => weightAtStep([10, 50, 100], i))).toEqual([0, 10, 10, 50, 50, 100, 100, 100]);
});

test('MAESTRO_ARGO_CANARY_WEIGHTS must increase and end at 100', () => {
  expect(canaryWeightsFromText.parse('10, 50,100')).toEqual([10, 50, 100]);
  expect(canaryWeightsFromText.safeParse('50,10,100').success).toBe(false);
  expect(canaryWeightsFromText.safeParse('10,50').success).toBe(false);
  expect(canaryWeightsFromText.safeParse('10,x,100').success).toBe(false);
});

test('the Rollout carries the version as its pod template and Maestro’s state as annotations, read back with Argo’s status', () => {
  const rollout = renderRollout({ service: 'greeter', namespace: 'apps', sha: V2, imageRepository: 'registry.local/maestro', healthPath: '/healthz', replicas: 10, weights: [10, 50, 100], state });
  expect(rollout).toMatchObject({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    spec: { replicas: 10, selector: { matchLabels: { 'maestro.dev/service': 'greeter' } }, template: { metadata: { labels: { 'maestro.dev/sha': V2 } }, spec: { containers: [{ image: `registry.local/maestro/greeter:${V2}` }] } } },
  });
  const progress = readRolloutProgress('greeter', [10, 50, 100], {
    ...rollout,
    metadata: { ...rollout.metadata, generation: 3, resourceVersion: '42' },
    status: { observedGeneration: '3', currentStepIndex: 4, pauseConditions: [{ reason: 'CanaryPauseStep' }], stableRS: 'h1', currentPodHash: 'h2', phase: 'Paused', updatedReplicas: 5, availableReplicas: 10 },
  });
  expect(progress).toMatchObject({ state, observed: true, stepIndex: 4, paused: true, aborted: false, weight: 50, canaryReplicas: 5 });
  // Aborted, or nothing but the stable: no canary weight whatever the step says.
  expect(readRolloutProgress('greeter', [10, 50, 100], { ...rollout, metadata: { ...rollout.metadata, resourceVersion: '43' }, status: { currentStepIndex: 4, abort: true, stableRS: 'h1', currentPodHash: 'h2' } }).weight).toBe(0);
  expect(readRolloutProgress('greeter', [10, 50, 100], { ...rollout, metadata: { ...rollout.metadata, resourceVersion: '44' }, status: { currentStepIndex: 7, stableRS: 'h2', currentPodHash: 'h2' } }).weight).toBe(0);
});

test('the GitOps files of an environment under Argo Rollouts: the Rollout on the promoted commit alone, and its Service, byte for byte the same each time', () => {
  const input = { service: 'greeter', namespace: 'apps-prod', sha: V2, repo: '/repo', imageRepository: 'registry.local/maestro', healthPath: '/healthz', replicas: 3 };
  const files = renderRolloutEnvironment(input);
  expect(Object.keys(files)).toEqual(['rollout.yaml', 'service.yaml']);
  expect(renderRolloutEnvironment(input)).toEqual(files);
  const rollout = parse(files['rollout.yaml']!);
  expect(rollout).toEqual(renderRollout({ ...input, weights: DEFAULT_CANARY_WEIGHTS, state: { repo: '/repo', healthPath: '/healthz', stable: V2, canary: null, owner: null, lastPromotion: null, lastRollback: null } }));
  expect(readRolloutProgress('greeter', DEFAULT_CANARY_WEIGHTS, { ...rollout, metadata: { ...rollout.metadata, resourceVersion: '1' } }).state).toMatchObject({ stable: V2, canary: null });
  expect(parse(files['service.yaml']!)).toMatchObject({ kind: 'Service', metadata: { name: 'greeter', namespace: 'apps-prod' }, spec: { selector: { 'maestro.dev/service': 'greeter' } } });
});

test('property: on any ladder, the step Maestro moves to for a weight, and the pause after it, are at that weight as Argo counts', () => {
  const ladders = fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 12 }).map((ws) => [...ws.sort((a, b) => a - b), 100]);
  fc.assert(
    fc.property(ladders, fc.nat(), (weights, pick) => {
      const weight = weights[pick % weights.length]!;
      const index = setWeightStepIndex(weights, weight);
      expect(canarySteps(weights)[index]).toEqual({ setWeight: weight });
      expect(canarySteps(weights)[index + 1]).toEqual({ pause: {} });
      expect(weightAtStep(weights, index)).toBe(weight);
      expect(weightAtStep(weights, index + 1)).toBe(weight);
      expect(weightAtStep(weights, 0)).toBe(0);
      expect(weightAtStep(weights, canarySteps(weights).length)).toBe(100); // done: all of it
    }),
  );
});
