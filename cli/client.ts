import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { parseOrThrow } from '../core/validation';
import { DEFAULT_STATE_DIR } from '../io/paths';
import { otlpEndpointFromEnv, startTracing } from '../io/tracing';
import { codecKeysEnvSchema, connectTemporalClient, EncryptionCodec, loadKeyRing, type CodecSettings } from '../io/payload-codec';
import { CliError, EXIT } from './errors';

// Without TEMPORAL_ADDRESS: the dev server `maestro up` starts (MAESTRO_TEMPORAL_PORT, infra/temporal/dev-server.ts).
export const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS || `127.0.0.1:${process.env.MAESTRO_TEMPORAL_PORT || 7233}`;
export const TEMPORAL_NAMESPACE = process.env.TEMPORAL_NAMESPACE || 'default';
export const WEB_UI = process.env.MAESTRO_WEB_UI || `http://127.0.0.1:${process.env.MAESTRO_TEMPORAL_UI_PORT || 8233}`;

/** Where the worker's payload codec keys are (same variables as workers/config.ts). */
export function codecSettings(env: NodeJS.ProcessEnv = process.env): CodecSettings {
  const { MAESTRO_STATE_DIR, MAESTRO_CODEC_KEYS } = parseOrThrow(
    z.object({ MAESTRO_STATE_DIR: z.string().min(1).default(DEFAULT_STATE_DIR), MAESTRO_CODEC_KEYS: codecKeysEnvSchema.optional() }),
    { MAESTRO_STATE_DIR: env.MAESTRO_STATE_DIR || undefined, MAESTRO_CODEC_KEYS: env.MAESTRO_CODEC_KEYS || undefined },
    'payload codec configuration (environment variables)',
  );
  return { stateDir: MAESTRO_STATE_DIR, keys: MAESTRO_CODEC_KEYS };
}

/** The worker's payload codec: what the CLI sends and reads is encrypted with its keys. */
export const cliCodec = (): EncryptionCodec => new EncryptionCodec(loadKeyRing(codecSettings()));

/** Where a trace is shown: the tracing backend's UI (MAESTRO_TRACE_UI, e.g. Jaeger's http://127.0.0.1:16686). */
export function traceUiLink(traceId: string): string | undefined {
  const ui = process.env.MAESTRO_TRACE_UI?.replace(/\/+$/, '');
  return ui ? `${ui}/trace/${traceId}` : undefined;
}

/** Connects to Temporal, or says plainly that it is not running and how to start it. */
export async function connectClient(address = TEMPORAL_ADDRESS): Promise<Client> {
  const codec = cliCodec();
  // With MAESTRO_OTLP_ENDPOINT set, what this client starts or signals is traced (io/tracing.ts); main() flushes at exit.
  const endpoint = otlpEndpointFromEnv();
  if (endpoint) await startTracing({ endpoint, serviceName: 'maestro-cli' });
  try {
    return await connectTemporalClient({ address, namespace: TEMPORAL_NAMESPACE, codec });
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
