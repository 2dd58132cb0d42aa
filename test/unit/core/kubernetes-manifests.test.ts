import fc from 'fast-check';
import { InvalidInputError } from '../../../core/errors';
import { parse } from 'yaml';
import { KUBERNETES_DEFAULTS, readRouteState, renderEnvironment, renderRoute, renderVersion, versionName, type RouteState } from '../../../core/kubernetes-manifests';

const shaArb = fc.stringMatching(/^[0-9a-f]{40}$/);
const stateArb: fc.Arbitrary<RouteState> = fc
  .record({
    stable: shaArb,
    canary: fc.option(shaArb, { nil: null }),
    owner: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: null }),
    weight: fc.integer({ min: 0, max: 100 }),
    lastPromotion: fc.option(fc.record({ sha: shaArb, at: fc.nat() }), { nil: null }),
    lastRollback: fc.option(fc.record({ sha: shaArb, at: fc.nat() }), { nil: null }),
  })
  .filter((s) => s.canary !== s.stable)
  .map((s) => ({ ...s, weight: s.canary ? s.weight : 0, repo: '/srv/repo', healthPath: '/healthz' }));

const route = (state: RouteState) => renderRoute({ service: 'greeter', namespace: 'prod', gateway: 'edge', state }) as unknown as { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };

describe('the HTTPRoute of a rollout', () => {
  test('reads back the state it was rendered from (the route is the deployer\'s only memory)', () => {
    fc.assert(fc.property(stateArb, (state) => expect(readRouteState('greeter', route(state))).toEqual(state)));
  });

  test('its backend weights always add up to 100, the canary getting exactly its weight', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const refs = route(state).spec.rules[0]!.backendRefs;
        expect(refs.reduce((sum, r) => sum + r.weight, 0)).toBe(100);
        expect(refs[0]).toMatchObject({ name: versionName('greeter', state.stable), weight: 100 - state.weight });
        if (state.canary) expect(refs[1]).toMatchObject({ name: versionName('greeter', state.canary), weight: state.weight });
        else expect(refs).toHaveLength(1);
      }),
    );
  });

  test('Gateway API weights are proportional: a route edited to 1:3 reads as 75% canary', () => {
    fc.assert(
      fc.property(stateArb.filter((s) => s.canary !== null), fc.integer({ min: 1, max: 1000 }), (state, k) => {
        const edited = route(state);
        edited.spec.rules[0]!.backendRefs[0]!.weight = k;
        edited.spec.rules[0]!.backendRefs[1]!.weight = 3 * k;
        expect(readRouteState('greeter', edited).weight).toBe(75);
      }),
    );
  });

  test('refuses a weight with no canary, and a route Maestro did not make', () => {
    const state = { repo: '/r', healthPath: '/h', stable: 'a'.repeat(40), canary: null, owner: null, weight: 10, lastPromotion: null, lastRollback: null };
    expect(() => route(state)).toThrow(InvalidInputError);
    expect(() => readRouteState('greeter', { metadata: { annotations: {} }, spec: { rules: [{ backendRefs: [] }] } })).toThrow(/has no maestro.dev\/stable-sha annotation: it was not made by Maestro/);
  });
});

describe('the objects of a version', () => {
  test('a Deployment and a Service named <service>-<sha12>, selecting only that version\'s Pods', () => {
    fc.assert(
      fc.property(shaArb, fc.integer({ min: 1, max: 5 }), (sha, replicas) => {
        const [deployment, service] = renderVersion({ service: 'greeter', namespace: 'prod', sha, imageRepository: 'registry.example/team', healthPath: '/healthz', replicas });
        expect(deployment.metadata.name).toBe(`greeter-${sha.slice(0, 12)}`);
        expect(service.metadata.name).toBe(deployment.metadata.name);
        const spec = deployment.spec as { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } } };
        expect(spec.replicas).toBe(replicas);
        expect(spec.template.spec.containers[0]!.image).toBe(`registry.example/team/greeter:${sha}`);
        expect((service.spec as { selector: Record<string, string> }).selector).toEqual(spec.selector.matchLabels);
        for (const [k, v] of Object.entries(spec.selector.matchLabels)) expect(spec.template.metadata.labels[k]).toBe(v);
      }),
    );
  });

  test('service names Kubernetes cannot take are refused with the rule', () => {
    for (const bad of ['Greeter', 'greeter_v2', '-greeter', 'a'.repeat(51), 'greeter.svc'])
      expect(() => versionName(bad, 'a'.repeat(40))).toThrow(/cannot name Kubernetes objects: use lower-case letters, digits and '-'/);
  });
});

describe('the GitOps files of an environment', () => {
  const input = { ...KUBERNETES_DEFAULTS, namespace: 'staging', service: 'greeter', repo: '/srv/repo', healthPath: '/ready', replicas: 2 };

  test('property: are the objects the deployer applies, the route at 100% on the commit, the same bytes every time', () => {
    fc.assert(
      fc.property(shaArb, (sha) => {
        const files = renderEnvironment({ ...input, sha });
        expect(Object.keys(files)).toEqual(['deployment.yaml', 'service.yaml', 'httproute.yaml']);
        const [deployment, service] = renderVersion({ ...input, sha });
        expect(parse(files['deployment.yaml']!)).toEqual(deployment);
        expect(parse(files['service.yaml']!)).toEqual(service);
        const route = parse(files['httproute.yaml']!);
        expect(readRouteState('greeter', route)).toEqual({ repo: '/srv/repo', healthPath: '/ready', stable: sha, canary: null, owner: null, weight: 0, lastPromotion: null, lastRollback: null });
        expect(route).toMatchObject({ metadata: { namespace: 'staging' }, spec: { parentRefs: [{ name: 'maestro' }] } });
        expect(renderEnvironment({ ...input, sha })).toEqual(files);
      }),
      { numRuns: 30 },
    );
  });

  test('refuses a service name Kubernetes cannot take, and a short commit', () => {
    expect(() => renderEnvironment({ ...input, service: 'Greeter_', sha: 'a'.repeat(40) })).toThrow(InvalidInputError);
    expect(() => renderEnvironment({ ...input, sha: 'abc123' })).toThrow("not a full commit sha: 'abc123'");
  });
});
