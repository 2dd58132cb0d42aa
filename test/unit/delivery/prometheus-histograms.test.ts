/** Reading each version's latency histogram from Prometheus' cumulative, extrapolated bucket counts. */
import fc from 'fast-check';
import { latencyHistograms, type PromSample } from '../../../delivery/prometheus-health';

const bucket = (upstream: string, le: string, value: number): PromSample => ({ labels: { upstream, le }, value });

describe('latencyHistograms', () => {
  it('turns cumulative counts per le into requests per bucket, bounds in ms', () => {
    const samples = [bucket('a:1', '0.01', 2), bucket('a:1', '0.02', 5), bucket('a:1', '+Inf', 6), bucket('b:2', '0.01', 0), bucket('b:2', '0.02', 1), bucket('b:2', '+Inf', 1)];
    const histograms = latencyHistograms(samples, ['a:1', 'b:2']);
    expect(histograms.get('a:1')).toEqual({ boundsMs: [10, 20], counts: [2, 3, 1] });
    expect(histograms.get('b:2')).toEqual({ boundsMs: [10, 20], counts: [0, 1, 0] });
  });

  it("rounds increase()'s extrapolated floats: cumulative counts to whole requests, never decreasing, adding up to the rounded total", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 2, maxLength: 12 }), (increments) => {
        // Cumulative as Prometheus returns it, each extrapolated (a float), with the last as +Inf.
        let total = 0;
        const samples = increments.map((inc, i) => {
          total += inc;
          return bucket('c:3', i === increments.length - 1 ? '+Inf' : String((i + 1) / 1000), total);
        });
        const histogram = latencyHistograms(samples, ['c:3']).get('c:3')!;
        expect(histogram.counts).toHaveLength(increments.length);
        expect(histogram.counts.every((c) => Number.isInteger(c) && c >= 0)).toBe(true);
        expect(histogram.counts.reduce((a, b) => a + b, 0)).toBe(Math.round(total));
        let cumulative = 0;
        histogram.counts.forEach((c, i) => {
          cumulative += c;
          expect(Math.abs(cumulative - samples[i]!.value)).toBeLessThanOrEqual(0.5);
        });
      }),
    );
  });

  it('gives nothing to judge for a histogram with no finite bound', () => {
    expect(latencyHistograms([bucket('a:1', '+Inf', 4)], ['a:1']).size).toBe(0);
  });

  it('gives a version without series zeros on the bounds of the others, and nothing when no version has series', () => {
    const samples = [bucket('a:1', '0.0004883', 1.4), bucket('a:1', '+Inf', 3.6)];
    expect(latencyHistograms(samples, ['a:1', 'new:9', null]).get('new:9')).toEqual({ boundsMs: [0.4883], counts: [0, 0] });
    expect(latencyHistograms(samples, ['a:1']).get('a:1')).toEqual({ boundsMs: [0.4883], counts: [1, 3] });
    expect(latencyHistograms([], ['a:1']).size).toBe(0);
  });
});
