/** `maestro approve --env`: the environment of a promotion path an approval is for, checked before anything is sent. */
import { runCommand } from '../../../../cli/command';
import { signalCommands } from '../../../../cli/commands/signal';

const run = async (name: keyof typeof signalCommands, argv: string[]) => {
  const out: string[] = [];
  const code = await runCommand(signalCommands[name], argv, { print: (l) => void out.push(l), error: (l) => void out.push(l) });
  return { code, text: out.join('\n') };
};

test('approve takes --env for one environment of a promotion path, and refuses one that does not exist (exit 2, nothing sent)', async () => {
  expect(await run('approve', ['train-1', '--env', 'qa'])).toEqual({ code: 2, text: expect.stringContaining("--env must be one of dev, staging, prod; got 'qa'") });
  expect((await run('approve', ['--help'])).text).toContain('--env ENV       the environment of a promotion path it approves ahead of time');
});

test('the other signals have no --env: an approval is what a guard counts', async () => {
  expect(await run('abort', ['train-1', '--env', 'prod'])).toMatchObject({ code: 2 });
  expect((await run('abort', ['--help'])).text).not.toContain('--env');
});
