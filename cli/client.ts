import { Client, Connection } from '@temporalio/client';

export const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233';
export const TEMPORAL_NAMESPACE = process.env.TEMPORAL_NAMESPACE || 'default';
export const WEB_UI = process.env.MAESTRO_WEB_UI || 'http://127.0.0.1:8233';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
export const EXIT = { promoted: 0, usage: 2, unreachable: 3, notFound: 4, rolled_back: 10, denied: 11, aborted: 12, failed: 13 } as const;

/** Connects to Temporal, or says plainly that it is not running and how to start it. */
export async function connectClient(address = TEMPORAL_ADDRESS): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '3s' });
    return new Client({ connection, namespace: TEMPORAL_NAMESPACE });
  } catch (err) {
    throw new CliError(
      `Temporal is not reachable at ${address} (${(err as Error).message}).\n` +
        `Start the embedded stack with 'bin/maestro up' (dev server + worker), or point TEMPORAL_ADDRESS at a running cluster.`,
      EXIT.unreachable,
    );
  }
}

export function workflowUiLink(workflowId: string): string {
  return `${WEB_UI}/namespaces/${TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`;
}
