import { Client, Connection } from '@temporalio/client';
import { CliError, EXIT } from './errors';

export const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233';
export const TEMPORAL_NAMESPACE = process.env.TEMPORAL_NAMESPACE || 'default';
export const WEB_UI = process.env.MAESTRO_WEB_UI || 'http://127.0.0.1:8233';

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

/** A client when Temporal answers, undefined otherwise (for commands that can do without it). */
export async function tryConnectClient(address = TEMPORAL_ADDRESS): Promise<Client | undefined> {
  try {
    return await connectClient(address);
  } catch (err) {
    if (err instanceof CliError) return undefined;
    throw err;
  }
}

export function workflowUiLink(workflowId: string): string {
  return `${WEB_UI}/namespaces/${TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`;
}
