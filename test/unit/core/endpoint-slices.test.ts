import fc from 'fast-check';
import { countEndpoints, endpointSliceSchema, serviceOfSlice, takesRequests, type EndpointSlice } from '../../../core/endpoint-slices';

const slice = (endpoints: EndpointSlice['endpoints'], service = 'greeter-canary'): EndpointSlice =>
  endpointSliceSchema.parse({ metadata: { labels: { 'kubernetes.io/service-name': service } }, ports: [{ port: 8080 }], endpoints });

describe('EndpointSlices as the deployer and the local gateway read them', () => {
  it('takes requests on ready or unknown-ready endpoints, never on not-ready or terminating ones', () => {
    expect(takesRequests({ addresses: ['10.0.0.1'], conditions: { ready: true } })).toBe(true);
    expect(takesRequests({ addresses: ['10.0.0.1'], conditions: {} })).toBe(true);
    expect(takesRequests({ addresses: ['10.0.0.1'] })).toBe(true);
    expect(takesRequests({ addresses: ['10.0.0.1'], conditions: { ready: false } })).toBe(false);
    // A terminating Pod still passing its readiness probe (publishNotReadyAddresses, or during its preStop sleep).
    expect(takesRequests({ addresses: ['10.0.0.1'], conditions: { ready: true, terminating: true } })).toBe(false);
  });

  it('counts an endpoint listed in two slices once, and only those that take requests as ready', () => {
    const counted = countEndpoints([
      slice([
        { addresses: ['10.0.0.1'], conditions: { ready: true } },
        { addresses: ['10.0.0.2'], conditions: { ready: false } },
      ]),
      slice([
        { addresses: ['10.0.0.1'], conditions: { ready: true } },
        { addresses: ['10.0.0.3'], conditions: { ready: true, terminating: true } },
      ]),
      slice(null),
    ]);
    expect(counted).toEqual({ ready: 1, total: 3 });
  });

  it('never counts more ready endpoints than listed ones, however the slices overlap', () => {
    const endpoint = fc.record({
      addresses: fc.array(fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'), { minLength: 1, maxLength: 2 }),
      conditions: fc.option(fc.record({ ready: fc.option(fc.boolean()), terminating: fc.option(fc.boolean()) })),
    });
    fc.assert(
      fc.property(fc.array(fc.array(endpoint, { maxLength: 4 }), { maxLength: 4 }), (slices) => {
        const { ready, total } = countEndpoints(slices.map((endpoints) => slice(endpoints)));
        const addresses = new Set(slices.flat().flatMap((e) => e.addresses));
        expect(total).toBe(addresses.size);
        expect(ready).toBeLessThanOrEqual(total);
      }),
    );
  });

  it('names the Service a slice belongs to, and none for an unlabelled slice', () => {
    expect(serviceOfSlice(slice([], 'greeter-stable'))).toBe('greeter-stable');
    expect(serviceOfSlice(endpointSliceSchema.parse({ metadata: {} }))).toBeUndefined();
  });
});
