/**
 * The migration a change to a Prisma schema needs (core/prisma-migration.ts), read from the base and the
 * candidate commit: derived when the change request asks for it (`migration.prisma`), refused when the
 * change alters the database through its schema.prisma without any migration.
 */
import type { ChangeRequest } from '../core/change-request';
import { InvalidInputError } from '../core/errors';
import { derivePrismaMigration, derivePrismaOperations, migrationNameFor } from '../core/prisma-migration';
import type { Candidate } from '../core/stages';
import { git } from '../io/git';

const isPrismaSchema = (file: string): boolean => file.endsWith('.prisma');

/** A file's text at a commit; '' where the commit does not have it (a schema created or deleted by the change). */
async function textAt(repo: string, sha: string, file: string): Promise<string> {
  const shown = await git(repo, ['show', `${sha}:${file}`], { allowExitCodes: [128] });
  return shown.exitCode === 0 ? shown.stdout : '';
}

export async function migrationOfChange(cr: ChangeRequest, repo: string, baseSha: string, sha: string, changedFiles: string[]): Promise<Candidate['derivedMigration']> {
  // A migration written by hand is the author's word: nothing is derived next to it.
  if (cr.migration?.definition) return undefined;
  const schemas = changedFiles.filter(isPrismaSchema);
  const derivation = cr.migration?.prisma;
  if (schemas.length === 0) {
    if (derivation) throw new InvalidInputError(`change '${cr.id}' asks to derive its migration from a Prisma schema ('migration.prisma'), but it changes no .prisma file; remove 'migration' or change the schema`);
    return undefined;
  }
  if (schemas.length > 1)
    throw new InvalidInputError(`change '${cr.id}' changes ${schemas.length} Prisma schema files (${schemas.join(', ')}); a migration is derived from one schema.prisma only: write it by hand ('migration.definition')`);
  const file = schemas[0]!;
  const [base, candidate] = await Promise.all([textAt(repo, baseSha, file), textAt(repo, sha, file)]);
  if (!derivation) {
    // Nothing to ask for when the database does not change (a comment, a generator block, a client-side default).
    const { operations } = derivePrismaOperations(base, candidate, file);
    if (operations.length === 0) return undefined;
    throw new InvalidInputError(
      `change '${cr.id}' changes the database through ${file} (${operations.map((o) => o.op + ('table' in o ? ` ${o.table}` : '')).join(', ')}) but carries no migration; ` +
        `add "migration": { "databaseUrl": "postgresql://…", "prisma": { "fromVersion": "<running version>", "toVersion": "<this version>" } } to release it with the derived migration, or 'definition' to write it by hand`,
    );
  }
  const { migration, notes } = derivePrismaMigration(base, candidate, file, { ...derivation, name: derivation.name ?? migrationNameFor(cr.id) });
  return migration ? { file, definition: migration, notes } : undefined;
}
