import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { parseOrThrow } from '../../core/validation';
import { appealStatusQuery, decideAppealSignal, TASK_QUEUE, type AppealResult } from '../../workflows/messages';
import { connectClient, workflowUiLink } from '../client';
import { defineCommand, UsageError } from '../command';
import { CliError, EXIT } from '../errors';

const text = z.string().trim().min(1).max(2000);

/** `maestro appeal …`: the appeal workflow (workflows/appeal.ts) from the command line. */
export const command = defineCommand({
  name: 'appeal',
  usage: `usage: maestro appeal <train-id> --by NAME --reason TEXT [--rule RULE]… [--wait]
                                  appeal a denied train (rules: the denied ones by default)
       maestro appeal decide <appeal-id> grant|reject --by NAME --reason TEXT
       maestro appeal status <appeal-id>`,
  options: { by: { type: 'string' }, reason: { type: 'string' }, rule: { type: 'string', multiple: true }, wait: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const [first, second, third] = positionals;
    if (!first) throw new UsageError('missing <train-id>, decide or status');
    if (first === 'status' && !second) throw new UsageError('status needs <appeal-id>');
    const client = await connectClient();

    if (first === 'status') {
      const status = await client.workflow.getHandle(second!).query(appealStatusQuery).catch(notFound(second!));
      io.print(`appeal ${status.appealId}: ${status.status}; rules ${status.rules.join(', ') || '(none yet)'}; deciders ${status.deciders.join(', ') || '(none yet)'}`);
      for (const step of status.steps) io.print(`  ${step.kind}${step.by ? ` by ${step.by}` : ''}: ${step.detail}`);
      return 0;
    }
    if (first === 'decide') {
      const input = parseOrThrow(
        z.object({ appealId: text, decision: z.enum(['grant', 'reject']), by: text, reason: text }),
        { appealId: second, decision: third, by: values.by, reason: values.reason },
        'appeal decision',
      );
      await client.workflow.getHandle(input.appealId).signal(decideAppealSignal, { by: input.by, decision: input.decision, reason: input.reason }).catch(notFound(input.appealId));
      io.print(`${input.decision} sent to ${input.appealId} as ${input.by}`);
      return 0;
    }

    const input = parseOrThrow(
      z.object({ trainWorkflowId: text, appellant: text, reason: text, rules: z.array(text).optional() }),
      { trainWorkflowId: first, appellant: values.by, reason: values.reason, rules: values.rule },
      'appeal',
    );
    const appealId = `appeal-${input.trainWorkflowId}-${Date.now().toString(36)}`;
    const handle = await client.workflow.start('appeal', { taskQueue: TASK_QUEUE, workflowId: appealId, args: [input] });
    io.print(`appeal ${appealId} opened for ${input.trainWorkflowId}\nWeb UI: ${workflowUiLink(appealId)}`);
    if (!values.wait) return 0;
    try {
      const result: AppealResult = await handle.result();
      io.print(`appeal ${result.status}${result.decidedBy ? ` by ${result.decidedBy}` : ''}: ${result.reason}`);
      return result.status === 'granted' ? 0 : EXIT.denied;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new CliError(`appeal refused: ${err.cause?.message ?? err.message}`, EXIT.denied);
      throw err;
    }
  },
});

const notFound = (id: string) => (err: unknown): never => {
  if (err instanceof WorkflowNotFoundError) throw new CliError(`no appeal with id '${id}'`, EXIT.notFound);
  throw err;
};
