import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'release',
  usage: `usage: maestro release start <change.json> [--wait] [--ref <branch or commit>] [--shadow]
  start a release train; prints its id and Web UI link
  --ref    the change is this branch or commit of the target repository (its changes since it left the base
           branch), read there by the train: no patch text travels through Temporal; replaces the file's "change"
  --shadow a shadow change: applied, tested, scored and decided, kept on its branch, never merged or deployed;
           the train ends 'shadowed' saying what would have happened (with --wait: exit 0 if it would have been allowed, 11 if denied)
  --wait   follow the train to its end; the exit code is its outcome (0 promoted, 10 rolled back, 11 denied, 12 aborted, 13 failed)`,
  options: { wait: { type: 'boolean' }, ref: { type: 'string' }, shadow: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const [sub, file, ...extra] = positionals;
    if (sub !== 'start') throw new UsageError(sub ? `unknown subcommand '${sub}'; allowed: start` : 'missing subcommand start');
    if (!file) throw new UsageError('start needs <change.json>');
    if (extra.length) throw new UsageError(`unexpected argument ${extra.join(' ')}`);
    const [{ connectClient, workflowUiLink }, { exitCodeFor, readChangeFile, startTrain, waitForTrain }] = await Promise.all([import('../client'), import('../release')]);
    const cr = await readChangeFile(file, { ref: values.ref, shadow: values.shadow });
    const client = await connectClient();
    const handle = await startTrain(client, cr);
    io.print(`started release train ${handle.workflowId}`);
    io.print(`Web UI: ${workflowUiLink(handle.workflowId)}`);
    if (!values.wait) return 0;
    const result = await waitForTrain(client, handle.workflowId, io.print);
    io.print(`outcome: ${result.outcome} — ${result.reason}`);
    return exitCodeFor(result);
  },
});
