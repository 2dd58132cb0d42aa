import { parseArgs } from 'node:util';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { parseOrThrow } from '../core/validation';

import { appealStatusQuery, decideAppealSignal, TASK_QUEUE, type AppealResult } from '../workflows/messages';
import { CliError, connectClient, EXIT, workflowUiLink } from './client';

const USAGE = `maestro appeal <train-id> --by NAME --reason TEXT [--rule RULE]… [--wait]
                                  appeal a denied train (rules: the denied ones by default)
maestro appeal decide <appeal-id> grant|reject --by NAME --reason TEXT
maestro appeal status <appeal-id>`;

const text = z.string().trim().min(1).max(2000);

/** `maestro appeal …`: the appeal workflow (workflows/appeal.ts) from the command line. */
export async function appealCommand(argv: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { by: { type: 'string' }, reason: { type: 'string' }, rule: { type: 'string', multiple: true }, wait: { type: 'boolean', default: false } },
  });
  const [first, second, third] = positionals;
  if (!first) throw new CliError(USAGE, EXIT.usage);
  const client = await connectClient();

  if (first === 'status') {
    if (!second) throw new CliError(USAGE, EXIT.usage);
    const status = await client.workflow.getHandle(second).query(appealStatusQuery).catch(notFound(second));
    print(`appeal ${status.appealId}: ${status.status}; rules ${status.rules.join(', ') || '(none yet)'}; deciders ${status.deciders.join(', ') || '(none yet)'}`);
    for (const step of status.steps) print(`  ${step.kind}${step.by ? ` by ${step.by}` : ''}: ${step.detail}`);
    return 0;
  }
  if (first === 'decide') {
    const input = parseOrThrow(
      z.object({ appealId: text, decision: z.enum(['grant', 'reject']), by: text, reason: text }),
      { appealId: second, decision: third, by: values.by, reason: values.reason },
      'appeal decision',
    );
    await client.workflow.getHandle(input.appealId).signal(decideAppealSignal, { by: input.by, decision: input.decision, reason: input.reason }).catch(notFound(input.appealId));
    print(`${input.decision} sent to ${input.appealId} as ${input.by}`);
    return 0;
  }

  const input = parseOrThrow(z.object({ trainWorkflowId: text, appellant: text, reason: text, rules: z.array(text).optional() }), {
    trainWorkflowId: first,
    appellant: values.by,
    reason: values.reason,
    rules: values.rule,
  }, 'appeal');
  const appealId = `appeal-${input.trainWorkflowId}-${Date.now().toString(36)}`;
  const handle = await client.workflow.start('appeal', { taskQueue: TASK_QUEUE, workflowId: appealId, args: [input] });
  print(`appeal ${appealId} opened for ${input.trainWorkflowId}\nWeb UI: ${workflowUiLink(appealId)}`);
  if (!values.wait) return 0;
  try {
    const result: AppealResult = await handle.result();
    print(`appeal ${result.status}${result.decidedBy ? ` by ${result.decidedBy}` : ''}: ${result.reason}`);
    return result.status === 'granted' ? 0 : EXIT.denied;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliError(`appeal refused: ${err.cause?.message ?? err.message}`, EXIT.denied);
    throw err;
  }
}

const notFound = (id: string) => (err: unknown): never => {
  if (err instanceof WorkflowNotFoundError) throw new CliError(`no appeal with id '${id}'`, EXIT.notFound);
  throw err;
};
