/** `maestro demo`: the eval-drift counts are checked before anything starts. */
import { UsageError } from '../../../../cli/command';
import { command } from '../../../../cli/commands/demo';
import { driftSteps } from '../../../../cli/demo-eval-drift';
import { defaultDegradationOptions } from '../../../../core/anomalies';

const io = { print: () => undefined, error: () => undefined };
const run = (values: Record<string, string | boolean>) => command.run({ positionals: [], values }, io);

test('counts need --eval-drift and must be positive whole numbers', async () => {
  await expect(run({ baseline: '8' })).rejects.toThrow(new UsageError('--baseline goes with --eval-drift'));
  await expect(run({ 'eval-drift': true, regressed: '0' })).rejects.toThrow(new UsageError('--regressed must be a positive whole number, got 0'));
  await expect(run({ 'eval-drift': true, baseline: '2.5' })).rejects.toThrow(new UsageError('--baseline must be a positive whole number, got 2.5'));
});

test("the drift's trains default to the analyzer's minimum: its baseline of healthy results, then its window of the regression", () => {
  const steps = driftSteps();
  expect(steps.map((s) => s.expect)).toEqual([
    ...Array<string>(defaultDegradationOptions.minBaseline).fill('promoted'),
    ...Array<string>(defaultDegradationOptions.window).fill('denied'),
  ]);
  expect(() => driftSteps(13)).toThrow('at most 12 baseline changes, asked for 13');
});
