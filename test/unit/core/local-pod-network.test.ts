import fc from 'fast-check';
import { podAddress, reachPodAddress } from '../../../core/local-pod-network';

test('pod addresses are 10.<n>.x.y from .0.2 on, each reached on its loopback twin 127.<n>.x.y', () => {
  expect(podAddress(73, 0)).toBe('10.73.0.2');
  expect(podAddress(73, 300)).toBe('10.73.1.46');
  expect(reachPodAddress('10.73.1.46')).toBe('127.73.1.46');
  expect(reachPodAddress('192.168.1.5')).toBe('192.168.1.5');
  expect(() => podAddress(0, 0)).toThrow(RangeError);
  expect(() => podAddress(73, 65_533)).toThrow(/no address number 65533/);
});

test('distinct indexes get distinct addresses, and every one is reached on loopback', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 65_532 }), fc.integer({ min: 0, max: 65_532 }), (network, a, b) => {
      const [x, y] = [podAddress(network, a), podAddress(network, b)];
      expect(x === y).toBe(a === b);
      expect(reachPodAddress(x)).toMatch(new RegExp(`^127\\.${network}\\.\\d{1,3}\\.\\d{1,3}$`));
    }),
  );
});
