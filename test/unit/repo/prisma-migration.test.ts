import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseChangeRequest, type ChangeRequestInput } from '../../../core/change-request';
import { InvalidInputError } from '../../../core/errors';
import { PrismaMigrationNotDerivedError } from '../../../core/prisma-migration';
import { createDemoRepo } from '../../../examples/demo-repo';
import { git } from '../../../io/git';
import { prepareChange } from '../../../repo/candidate';

const SCHEMA = `datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Person {
  id    BigInt  @id @default(autoincrement())
  name  String
  email String?

  @@map("people")
}
`;
const GIT_IDENTITY = ['-c', 'user.name=Test', '-c', 'user.email=test@localhost', '-c', 'commit.gpgsign=false'];

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-prisma-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
/** The greeter with prisma/schema.prisma on main, and a patch that rewrites the schema to `candidate`. */
async function repoWithSchemaChange(candidate: string): Promise<{ repo: string; diff: string }> {
  const { repo } = await createDemoRepo(path.join(tmp, `repo-${++counter}`));
  await fs.mkdir(path.join(repo, 'prisma'));
  await fs.writeFile(path.join(repo, 'prisma/schema.prisma'), SCHEMA);
  await git(repo, ['add', '--all']);
  await git(repo, [...GIT_IDENTITY, 'commit', '--quiet', '-m', 'schema']);
  await fs.writeFile(path.join(repo, 'prisma/schema.prisma'), candidate);
  const diff = (await git(repo, ['diff'])).stdout;
  await git(repo, ['checkout', '--', '.']);
  return { repo, diff };
}
const change = (repo: string, diff: string, extra: Partial<ChangeRequestInput> = {}) =>
  parseChangeRequest({ id: `prisma-${counter}`, title: 'schema change', intent: 'test', repo, service: 'greeter', change: { kind: 'patch', diff }, ...extra });
const databaseUrl = 'postgresql://app@127.0.0.1/greeter';

describe('prepareChange derives the migration of a schema.prisma change', () => {
  it('when the change request asks for it (migration.prisma): a rename by @map and an added column', async () => {
    const { repo, diff } = await repoWithSchemaChange(SCHEMA.replace('  name  String', '  name  String  @map("full_name")\n  age   Int?'));
    const candidate = await prepareChange(change(repo, diff, { migration: { databaseUrl, prisma: { fromVersion: 'v1', toVersion: 'v2' } } }), path.join(tmp, 'work'));
    expect(candidate.derivedMigration).toEqual({
      file: 'prisma/schema.prisma',
      definition: {
        name: `prisma_prisma_${counter}`,
        schema: 'public',
        fromVersion: 'v1',
        toVersion: 'v2',
        operations: [
          { op: 'rename_column', table: 'people', from: 'name', to: 'full_name' },
          { op: 'add_column', table: 'people', column: { name: 'age', type: 'integer', nullable: true } },
        ],
      },
      notes: ['people.name → full_name: a rename (field name maps to a new column name)'],
    });
  });

  it('refuses an ambiguous rename with the file, line and the hint that settles it', async () => {
    const { repo, diff } = await repoWithSchemaChange(SCHEMA.replace('  name  String', '  fullName String'));
    const cr = change(repo, diff, { migration: { databaseUrl, prisma: { fromVersion: 'v1', toVersion: 'v2' } } });
    const error = await prepareChange(cr, path.join(tmp, 'work')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrismaMigrationNotDerivedError);
    expect((error as Error).message).toMatch(/prisma\/schema.prisma:8 \(model Person, field fullName\): field 'fullName' is new while 'name' \(column name\) went/);
    const hinted = await prepareChange(
      { ...cr, id: `${cr.id}-hinted`, migration: { databaseUrl, prisma: { fromVersion: 'v1', toVersion: 'v2', schema: 'public', renames: [{ model: 'Person', from: 'name', to: 'fullName' }] } } },
      path.join(tmp, 'work'),
    );
    expect(hinted.derivedMigration?.definition.operations).toEqual([{ op: 'rename_column', table: 'people', from: 'name', to: 'fullName' }]);
  });

  it('refuses a change that alters the database through its schema without any migration, and says what to add', async () => {
    const { repo, diff } = await repoWithSchemaChange(SCHEMA.replace('  email String?', '  email String?\n  age   Int?'));
    const error = await prepareChange(change(repo, diff), path.join(tmp, 'work')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/changes the database through prisma\/schema.prisma \(add_column people\) but carries no migration; add "migration": \{ "databaseUrl": .*"prisma": \{ "fromVersion"/);
  });

  it('derives nothing for a schema change the database does not see, or next to a migration written by hand', async () => {
    const comment = await repoWithSchemaChange(SCHEMA.replace('  email String?', '  email String? // where we write'));
    expect((await prepareChange(change(comment.repo, comment.diff), path.join(tmp, 'work'))).derivedMigration).toBeUndefined();
    const added = await repoWithSchemaChange(SCHEMA.replace('  email String?', '  email String?\n  age   Int?'));
    const definition = { name: 'add_age', fromVersion: 'v1', toVersion: 'v2', operations: [{ op: 'add_column' as const, table: 'people', column: { name: 'age', type: 'integer' } }] };
    expect((await prepareChange(change(added.repo, added.diff, { migration: { databaseUrl, definition } }), path.join(tmp, 'work'))).derivedMigration).toBeUndefined();
  });

  it('refuses migration.prisma on a change that touches no Prisma schema', async () => {
    const { repo } = await repoWithSchemaChange(SCHEMA);
    await fs.appendFile(path.join(repo, 'README.md'), '\nmore\n');
    const diff = (await git(repo, ['diff'])).stdout;
    const error = await prepareChange(change(repo, diff, { migration: { databaseUrl, prisma: { fromVersion: 'v1', toVersion: 'v2' } } }), path.join(tmp, 'work')).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/asks to derive its migration from a Prisma schema \('migration.prisma'\), but it changes no .prisma file/);
  });
});
