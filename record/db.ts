/** Prisma Client over node-postgres (driver adapter, no native engine), plus helpers for tests and tools. */
import type { PrismaClient } from '@prisma/client';
import { PermanentError } from '../core/errors';

export type Db = PrismaClient;

/**
 * Loaded on the first client, not with this module: what only may use the record (the LLM ledger of an eval
 * check, say) keeps the CLI's other commands free of Prisma's load time.
 */
export function createPrisma(url: string): PrismaClient {
  const { PrismaClient: Client } = require('@prisma/client') as typeof import('@prisma/client');
  const { PrismaPg } = require('@prisma/adapter-pg') as typeof import('@prisma/adapter-pg');
  return new Client({ adapter: new PrismaPg({ connectionString: url, max: 5 }) });
}

/** Prisma's "unique constraint failed" error code: the row a retried write wanted is already there. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'P2002';
}

/**
 * One Prisma client per activity set, made on first use from `deps.url` or MAESTRO_DATABASE_URL (or
 * DATABASE_URL); without any, the activity fails for good saying which variable to set.
 */
export function lazyDb(deps: { prisma?: Db; url?: string }): () => Db {
  let prisma = deps.prisma;
  return () => {
    if (prisma) return prisma;
    if (!deps.url) throw new PermanentError('no database configured for the record: set MAESTRO_DATABASE_URL', 'NoDatabase');
    prisma = createPrisma(deps.url);
    return prisma;
  };
}
