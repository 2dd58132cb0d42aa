import fc from 'fast-check';
import { migrationProblems, type SchemaSnapshot } from '../../../core/migration';
import { derivePrismaMigration, derivePrismaOperations, migrationNameFor, PrismaMigrationNotDerivedError } from '../../../core/prisma-migration';

const FILE = 'prisma/schema.prisma';
const HEADER = `datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
`;
const person = (fields: string, attrs = '@@map("people")') => `${HEADER}
model Person {
  id    BigInt @id @default(autoincrement())
${fields}
  ${attrs}
}
`;
const BASE = person(`  name  String
  email String?`);
const derive = (base: string, candidate: string, renames: { model: string; from: string; to: string }[] = []) => derivePrismaOperations(base, candidate, FILE, renames);
const refusal = (fn: () => unknown): PrismaMigrationNotDerivedError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof PrismaMigrationNotDerivedError) return err;
    throw err;
  }
  throw new Error('expected PrismaMigrationNotDerivedError');
};

describe('derivePrismaOperations: the common cases', () => {
  it('an added column with a constant default, an optional one, and a DateTime with now()', () => {
    const { operations } = derive(
      BASE,
      person(`  name  String
  email String?
  nickname String @default("none")
  age Int?
  joinedAt DateTime @default(now()) @map("joined_at") @db.Timestamptz(6)`),
    );
    expect(operations).toEqual([
      { op: 'add_column', table: 'people', column: { name: 'nickname', type: 'text', nullable: false, default: "'none'" } },
      { op: 'add_column', table: 'people', column: { name: 'age', type: 'integer', nullable: true } },
      { op: 'add_column', table: 'people', column: { name: 'joined_at', type: 'timestamptz(6)', nullable: false, default: 'CURRENT_TIMESTAMP' } },
    ]);
  });

  it('a rename by @map: the field keeps its name, its column gets a new one', () => {
    const out = derive(BASE, person(`  name  String @map("full_name")
  email String?`));
    expect(out.operations).toEqual([{ op: 'rename_column', table: 'people', from: 'name', to: 'full_name' }]);
    expect(out.notes).toEqual(['people.name → full_name: a rename (field name maps to a new column name)']);
  });

  it('a field renamed in Prisma only (its column kept by @map) changes nothing in the database', () => {
    expect(derive(BASE, person(`  fullName String @map("name")
  email    String?`)).operations).toEqual([]);
  });

  it('a rename named by the hint, and refused as ambiguous without it', () => {
    const candidate = person(`  fullName String
  email    String?`);
    const err = refusal(() => derive(BASE, candidate));
    expect(err.changes).toEqual([
      {
        where: `${FILE}:8 (model Person, field fullName)`,
        what: expect.stringMatching(/^field 'fullName' is new while 'name' \(column name\) went: a rename, or a drop and an add\? Keep the column with @map\("name"\), or name the rename in 'migration.prisma.renames' \(\{ "model": "Person", "from": "name", "to": "fullName" \}\)$/),
      },
    ]);
    expect(err.message).toMatch(/write this migration by hand in the change request \('migration.definition'/);
    const hinted = derive(BASE, candidate, [{ model: 'Person', from: 'name', to: 'fullName' }]);
    expect(hinted.operations).toEqual([{ op: 'rename_column', table: 'people', from: 'name', to: 'fullName' }]);
    expect(hinted.notes).toEqual(['people.name → fullName: a rename (named in renames)']);
  });

  it('a type change within a family: a new column, cast both ways', () => {
    const { operations } = derive(person(`  name  String
  score Int`), person(`  name  String
  score BigInt`));
    expect(operations).toEqual([{ op: 'alter_column_type', table: 'people', column: 'score', type: 'bigint', up: 'CAST("score" AS bigint)', down: 'CAST("score" AS integer)' }]);
    expect(derive(BASE, person(`  name  String @db.VarChar(200)
  email String?`)).operations).toEqual([{ op: 'alter_column_type', table: 'people', column: 'name', type: 'varchar(200)', up: 'CAST("name" AS varchar(200))', down: 'CAST("name" AS text)' }]);
  });

  it('a new model is a new table; a removed one is dropped at contract', () => {
    const withLog = `${BASE}
model AuditLine {
  id   Int    @id @default(autoincrement())
  line String
  at   DateTime @default(now())
}
`;
    expect(derive(BASE, withLog).operations).toEqual([
      {
        op: 'create_table',
        table: 'AuditLine',
        columns: [
          { name: 'id', type: 'serial', nullable: false, primaryKey: true },
          { name: 'line', type: 'text', nullable: false, primaryKey: false },
          { name: 'at', type: 'timestamp(3)', nullable: false, primaryKey: false, default: 'CURRENT_TIMESTAMP' },
        ],
      },
    ]);
    expect(derive(withLog, BASE).operations).toEqual([{ op: 'drop_table', table: 'AuditLine' }]);
  });

  it('a new @@index is built concurrently', () => {
    expect(derive(BASE, person(`  name  String
  email String?`, '@@map("people")\n  @@index([email])')).operations).toEqual([{ op: 'create_index', table: 'people', name: 'people_email_idx', columns: ['email'] }]);
  });
});

describe('derivePrismaOperations: refused with what and where', () => {
  const refusedWhat = (candidate: string, base = BASE) => refusal(() => derive(base, candidate)).changes.map((c) => `${c.where}: ${c.what}`);

  it('a required field without a database default, a client-side default, a new unique column', () => {
    expect(refusedWhat(person(`  name  String
  email String?
  code  String
  token String @default(uuid())
  handle String? @unique`))).toEqual([
      expect.stringMatching(/^prisma\/schema.prisma:10 \(model Person, field code\): a required field without a database default: existing rows would have no value/),
      expect.stringMatching(/^prisma\/schema.prisma:11 \(model Person, field token\): a required field without a database default \(uuid\(\) is made by Prisma Client, not the database\)/),
      expect.stringMatching(/^prisma\/schema.prisma:12 \(model Person, field handle\): a new @unique column: add the column, then the constraint/),
    ]);
  });

  it('a rename and a type change of one column, nullability and default changes, a cast not known to hold', () => {
    expect(refusedWhat(person(`  name  Int @map("n")
  email String?`))).toEqual([expect.stringMatching(/field name\): renamed name → n and changed \(type text → integer\): one change per column per migration/)]);
    expect(refusedWhat(person(`  name  String?
  email String @default("x")`))).toEqual([
      expect.stringMatching(/field name\): now optional \(DROP NOT NULL\): not derived/),
      expect.stringMatching(/field email\): now required \(NOT NULL\), default none → 'x': not derived/),
    ]);
    expect(refusedWhat(person(`  name  Json
  email String?`))).toEqual([expect.stringMatching(/type text → jsonb: no cast both ways is known to hold; give 'alter_column_type' its 'up' and 'down'/)]);
  });

  it('a required column removed without a database default, enums, a table renamed, another provider', () => {
    expect(refusedWhat(person(`  email String?`))).toEqual([expect.stringMatching(/field name\): field 'name' \(column name\) was removed, but it is required without a database default/)]);
    expect(refusedWhat(`${BASE}\nenum Role {\n  USER\n  ADMIN\n}\n`)).toEqual([expect.stringMatching(/^prisma\/schema.prisma \(enum Role\): a new enum/)]);
    expect(refusedWhat(BASE.replace('@@map("people")', '@@map("persons")'))).toEqual([expect.stringMatching(/table 'persons' is new while 'people' went: if it is a rename, keep the table's name with @@map\("people"\)/)]);
    expect(refusedWhat(BASE.replace('postgresql', 'mysql'))).toEqual([expect.stringMatching(/datasource\): provider 'mysql': migrations run on PostgreSQL only/)]);
  });

  it('a syntax error is bad input with its line', () => {
    expect(() => derive(BASE, person('  name String @@@'))).toThrow(/the candidate prisma\/schema.prisma is not a valid Prisma schema: prisma\/schema.prisma:8:17: Expecting: .*but found: '@'/s);
  });

  it('a rename hint naming no field of the candidate', () => {
    expect(refusal(() => derive(BASE, BASE, [{ model: 'Person', from: 'name', to: 'fullName' }])).changes).toEqual([
      { where: 'renames (Person.name → fullName)', what: "the candidate schema has no field 'fullName' in a model 'Person'" },
    ]);
  });
});

describe('derivePrismaMigration', () => {
  it('wraps the operations as a migration that the checks accept against the base shape', () => {
    const { migration } = derivePrismaMigration(BASE, person(`  name  String @map("full_name")
  email String?
  age   Int?`), FILE, { name: migrationNameFor('Rename-Name-1'), fromVersion: 'v1', toVersion: 'v2', schema: 'public', renames: [] });
    expect(migration).toMatchObject({ name: 'prisma_rename_name_1', fromVersion: 'v1', toVersion: 'v2', schema: 'public' });
    expect(migrationProblems(migration!, snapshotOf(BASE_COLUMNS))).toEqual([]);
  });

  it('is undefined when nothing in the database changes', () => {
    expect(derivePrismaMigration(BASE, BASE.replace('email String?', 'email String? // contact'), FILE, { name: 'm', fromVersion: 'v1', toVersion: 'v2', schema: 'public', renames: [] }).migration).toBeUndefined();
  });

  it('refuses names the migration format refuses, with the field', () => {
    expect(() => derivePrismaMigration(BASE, person('  name String\n  email String?\n  age Int?'), FILE, { name: 'Bad Name', fromVersion: 'v1', toVersion: 'v2', schema: 'public', renames: [] })).toThrow(/invalid migration:\n {2}- name: must be lower case/);
  });
});

// Properties over generated models: any scalar fields, optional or not, with or without @map.
const SCALARS = { String: 'text', Int: 'integer', BigInt: 'bigint', Boolean: 'boolean', Float: 'double precision', DateTime: 'timestamp(3)' } as const;
type Scalar = keyof typeof SCALARS;
interface GenField {
  name: string;
  type: Scalar;
  optional: boolean;
  column?: string;
}
const BASE_COLUMNS: GenField[] = [
  { name: 'name', type: 'String', optional: false },
  { name: 'email', type: 'String', optional: true },
];
const fieldText = (f: GenField) => `  ${f.name} ${f.type}${f.optional ? '?' : ''}${f.column ? ` @map("${f.column}")` : ''}`;
const modelText = (fields: GenField[]) => person(fields.map(fieldText).join('\n'));
/** The database shape Prisma would have made for the model (what migrations/introspect.ts reads). */
function snapshotOf(fields: GenField[]): SchemaSnapshot {
  return {
    tables: [
      {
        name: 'people',
        primaryKey: ['id'],
        columns: [{ name: 'id', type: 'bigint', nullable: false, default: null }, ...fields.map((f) => ({ name: f.column ?? f.name, type: SCALARS[f.type], nullable: f.optional, default: null }))],
      },
    ],
  };
}
const fieldName = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/).filter((n) => n !== 'id');
const genFields = fc.uniqueArray(fc.record({ name: fieldName, type: fc.constantFrom(...(Object.keys(SCALARS) as Scalar[])), optional: fc.boolean() }), { selector: (f) => f.name.toLowerCase(), minLength: 1, maxLength: 6 });

describe('derivePrismaOperations: properties', () => {
  it('the same schema derives no operation', () => {
    fc.assert(fc.property(genFields, (fields) => expect(derive(modelText(fields), modelText(fields)).operations).toEqual([])));
  });

  it('an added optional field is exactly one add_column of its type, and the migration passes the checks', () => {
    fc.assert(
      fc.property(genFields, fc.constantFrom(...(Object.keys(SCALARS) as Scalar[])), (fields, type) => {
        const added: GenField = { name: 'zAdded', type, optional: true };
        const { migration } = derivePrismaMigration(modelText(fields), modelText([...fields, added]), FILE, { name: 'm', fromVersion: 'v1', toVersion: 'v2', schema: 'public', renames: [] });
        expect(migration?.operations).toEqual([{ op: 'add_column', table: 'people', column: { name: 'zAdded', type: SCALARS[type], nullable: true } }]);
        expect(migrationProblems(migration!, snapshotOf(fields))).toEqual([]);
      }),
    );
  });

  it('a field given a new column by @map is exactly one rename_column; the same pair without @map or hint is refused', () => {
    fc.assert(
      fc.property(genFields, fc.nat(), (fields, pick) => {
        const i = pick % fields.length;
        const target = fields[i]!;
        const mapped = fields.map((f, j) => (j === i ? { ...f, column: `${f.name.toLowerCase()}_col` } : f));
        const { migration } = derivePrismaMigration(modelText(fields), modelText(mapped), FILE, { name: 'm', fromVersion: 'v1', toVersion: 'v2', schema: 'public', renames: [] });
        expect(migration?.operations).toEqual([{ op: 'rename_column', table: 'people', from: target.name, to: `${target.name.toLowerCase()}_col` }]);
        expect(migrationProblems(migration!, snapshotOf(fields))).toEqual([]);
        const renamedField = fields.map((f, j) => (j === i ? { ...f, name: `${f.name}Renamed` } : f));
        const err = refusal(() => derive(modelText(fields), modelText(renamedField)));
        expect(err.changes.map((c) => c.where)).toEqual([`${FILE}:${8 + i} (model Person, field ${target.name}Renamed)`]);
        expect(derive(modelText(fields), modelText(renamedField), [{ model: 'Person', from: target.name, to: `${target.name}Renamed` }]).operations).toEqual([
          { op: 'rename_column', table: 'people', from: target.name, to: `${target.name}Renamed` },
        ]);
      }),
    );
  });
});
