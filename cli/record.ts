/** The record as the CLI opens it: MAESTRO_DATABASE_URL, or the project's own PostgreSQL; unreachable said plainly. */
import type { RecordStore } from '../record/store';
import type { LlmLedgerStore } from '../record/llm-ledger';
import { CliError, EXIT } from './errors';

export interface OpenRecord {
  record: RecordStore;
  /** The LLM gateway's ledger (same connection). */
  llmLedger: LlmLedgerStore;
  databaseUrl: string;
  close(): Promise<void>;
}

export async function openRecord(): Promise<OpenRecord> {
  const [{ RecordStore }, { LlmLedgerStore }, { createPrisma }, { serverUrl, defaultPostgres }] = await Promise.all([
    import('../record/store'),
    import('../record/llm-ledger'),
    import('../record/db'),
    import('../infra/postgres/server'),
  ]);
  const databaseUrl = process.env.MAESTRO_DATABASE_URL ?? serverUrl(defaultPostgres);
  const prisma = createPrisma(databaseUrl);
  return { record: new RecordStore({ prisma }), llmLedger: new LlmLedgerStore({ prisma }), databaseUrl, close: () => prisma.$disconnect() };
}

/** Prisma's "can't reach database server" as a CliError that says which record and how to start it; anything else unchanged. */
export async function recordUnreachable(err: unknown, databaseUrl: string): Promise<unknown> {
  if ((err as { code?: string }).code !== 'P1001') return err;
  const { redactUrl } = await import('../infra/postgres/server');
  return new CliError(`the record (PostgreSQL at ${redactUrl(databaseUrl)}) is not reachable: start the stack with 'bin/maestro up', or set MAESTRO_DATABASE_URL`, EXIT.unreachable);
}
