/** approve, abort, pause, resume and promote: one operator signal each, the same arguments. */
import os from 'node:os';
import type { OperatorSignalName } from '../../workflows/messages';
import { defineCommand, environmentOption, UsageError, type Command } from '../command';

const signalCommand = (name: OperatorSignalName) =>
  defineCommand({
    name,
    usage: `usage: maestro ${name} <train-id> [--by NAME] [--reason TEXT]${name === 'approve' ? ' [--env dev|staging|prod]' : ''}
  send '${name}' to a release train (exit 4: no running train with that id)
  --by NAME       who sends it (default: $MAESTRO_OPERATOR, else user@host); recorded in the train's history
  --reason TEXT   why, recorded with it${
    name === 'approve'
      ? `
  --env ENV       the environment of a promotion path it approves ahead of time (without it, an approval counts at a
                  later environment's guard only when given while the train waits there)`
      : ''
  }`,
    options: { by: { type: 'string' }, reason: { type: 'string' }, ...(name === 'approve' ? { env: { type: 'string' as const } } : {}) },
    async run({ values, positionals }, io) {
      if (positionals.length !== 1) throw new UsageError('needs exactly one <train-id>');
      const env = environmentOption((values as { env?: string }).env);
      const id = positionals[0]!;
      const operator = values.by ?? process.env.MAESTRO_OPERATOR ?? `${os.userInfo().username}@${os.hostname()}`;
      const [{ connectClient }, { sendOperatorSignal }] = await Promise.all([import('../client'), import('../release')]);
      const client = await connectClient();
      await sendOperatorSignal(client, id, name, { by: operator, ...(values.reason ? { reason: values.reason } : {}), ...(env ? { environment: env } : {}) });
      io.print(`${name}${env ? ` for ${env}` : ''} sent to ${id} as ${operator}`);
      return 0;
    },
  });

export const signalCommands: Record<OperatorSignalName, Command> = {
  approve: signalCommand('approve'),
  abort: signalCommand('abort'),
  pause: signalCommand('pause'),
  resume: signalCommand('resume'),
  promote: signalCommand('promote'),
};
