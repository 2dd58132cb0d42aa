/** Readings of a metric series for the series judge's tests (core/judge.ts judgeSeries). */
import fc from 'fast-check';

/** Readings around `median` with multiplicative noise (log-sd `sd`), from uniforms drawn by fast-check with a fixed seed. */
export function readings(count: number, median: number, seed: number, sd = 0.1): number[] {
  // Unbiased integers: fast-check's doubles lean to edge values on purpose, which is not noise.
  const [ints] = fc.sample(fc.array(fc.noBias(fc.integer({ min: 1, max: 2 ** 30 })), { minLength: 2 * count, maxLength: 2 * count }), { seed, numRuns: 1 });
  const uniform = (j: number) => ints![j]! / (2 ** 30 + 1);
  return Array.from({ length: count }, (_, i) => {
    // Box–Muller: two uniforms, one normal.
    const z = Math.sqrt(-2 * Math.log(uniform(2 * i))) * Math.cos(2 * Math.PI * uniform(2 * i + 1));
    return median * Math.exp(sd * z);
  });
}
