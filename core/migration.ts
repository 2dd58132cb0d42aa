/**
 * A zero-downtime database migration as data (pgroll's model): operations on tables of one PostgreSQL
 * schema, run as expand → backfill → contract while the old and the new application version both
 * read and write, each through its own schema of views. This module holds the schema, the shape of a
 * database the planner needs (`SchemaSnapshot`) and the checks that refuse a migration before anything
 * runs: invalid references, and operations that would hold a long lock (each with its safe alternative).
 *
 * Expressions (`up`, `down`, `default`, `expression`) are SQL written by the change's author, like a
 * migration file; inside `up` the old version's columns are in scope by name, inside `down` the new's.
 */
import { z } from 'zod';
import { InvalidInputError } from './errors';
import { identifierBytes, MAX_IDENTIFIER_BYTES } from './sql-text';
import { parseOrThrow } from './validation';

/** Names Maestro builds other names from (schemas of views, triggers): lower case, unquoted. */
const plainName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'must be lower case letters, digits and underscores, starting with a letter or underscore')
  .max(30, 'at most 30 characters (helper names are built from it)');
/** A table or column name: any PostgreSQL identifier (it is always quoted). */
const identifier = z
  .string()
  .min(1, 'must not be empty')
  .refine((n) => identifierBytes(n) <= MAX_IDENTIFIER_BYTES, `at most ${MAX_IDENTIFIER_BYTES} bytes (PostgreSQL's identifier limit)`)
  .refine((n) => !n.startsWith('_mc_'), "names starting with '_mc_' are reserved for the migration engine's helper columns")
  .refine((n) => !n.includes('\0'), 'must not contain a NUL character');
const sqlType = z.string().min(1, 'a PostgreSQL type, e.g. text, bigint, timestamptz');
const expression = z.string().min(1, 'an SQL expression');

const columnDefinition = z
  .object({
    name: identifier,
    type: sqlType,
    nullable: z.boolean().default(true),
    default: expression.optional(),
    primaryKey: z.boolean().default(false),
  })
  .strict();

const constraintSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('not_null') }).strict(),
  z.object({ kind: z.literal('unique'), name: identifier }).strict(),
  z.object({ kind: z.literal('check'), name: identifier, expression }).strict(),
  z
    .object({
      kind: z.literal('foreign_key'),
      name: identifier,
      references: z.object({ table: identifier, column: identifier }).strict(),
      onDelete: z.enum(['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL']).default('NO ACTION'),
    })
    .strict(),
]);

export const operationSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create_table'), table: identifier, columns: z.array(columnDefinition).min(1) }).strict(),
  z.object({ op: z.literal('drop_table'), table: identifier }).strict(),
  z
    .object({
      op: z.literal('add_column'),
      table: identifier,
      column: columnDefinition.omit({ primaryKey: true }),
      /** The value for rows the old version writes and for existing rows (backfilled). */
      up: expression.optional(),
    })
    .strict(),
  z
    .object({
      op: z.literal('drop_column'),
      table: identifier,
      column: identifier,
      /** The value of the dropped column for rows the new version writes (the old version still reads it). */
      down: expression.optional(),
    })
    .strict(),
  z.object({ op: z.literal('rename_column'), table: identifier, from: identifier, to: identifier }).strict(),
  z
    .object({ op: z.literal('alter_column_type'), table: identifier, column: identifier, type: sqlType, up: expression, down: expression })
    .strict(),
  z
    .object({
      op: z.literal('split_column'),
      table: identifier,
      column: identifier,
      into: z
        .array(z.object({ name: identifier, type: sqlType, up: expression, nullable: z.boolean().default(true) }).strict())
        .min(2, 'a split makes at least two columns'),
      /** The old column's value from the new columns, for rows the new version writes. */
      down: expression,
    })
    .strict(),
  z
    .object({
      op: z.literal('add_constraint'),
      table: identifier,
      column: identifier,
      constraint: constraintSchema,
      /** Makes an old version's write satisfy the constraint (default: the value unchanged). */
      up: expression.optional(),
      down: expression.optional(),
    })
    .strict(),
  z.object({ op: z.literal('create_index'), table: identifier, name: identifier, columns: z.array(identifier).min(1) }).strict(),
  z.object({ op: z.literal('raw_sql'), up: z.string().min(1), down: z.string().min(1) }).strict(),
]);

export const migrationSchema = z
  .object({
    /** Names the migration's helper objects and its record row. */
    name: plainName,
    /** The physical schema holding the tables. */
    schema: plainName.default('public'),
    /** Application versions: each reads and writes through the schema of views `<schema>_<version>`. */
    fromVersion: plainName,
    toVersion: plainName,
    operations: z.array(operationSchema).min(1, 'a migration needs at least one operation'),
  })
  .strict()
  .refine((m) => m.fromVersion !== m.toVersion, { message: 'fromVersion and toVersion must differ', path: ['toVersion'] });

/**
 * How a change request asks for its migration to be derived from its schema.prisma (`migration.prisma`,
 * core/prisma-migration.ts; kept here, free of the parser, because workflows validate change requests).
 */
export const prismaDerivationSchema = z
  .object({
    /** Migration name; default from the change request's id. */
    name: plainName.optional(),
    /** The application versions (their schemas of views, `<schema>_<version>`), as in a written migration. */
    fromVersion: plainName,
    toVersion: plainName,
    schema: plainName.default('public'),
    /** Renames a schema diff cannot tell from a drop and an add: Prisma field names in the candidate's model. */
    renames: z.array(z.object({ model: z.string().min(1), from: z.string().min(1), to: z.string().min(1) }).strict()).default([]),
  })
  .strict();
export type PrismaDerivation = z.output<typeof prismaDerivationSchema>;
export type PrismaRename = PrismaDerivation['renames'][number];

export type Migration = z.output<typeof migrationSchema>;
export type MigrationInput = z.input<typeof migrationSchema>;
export type Operation = Migration['operations'][number];
export type ColumnDefinition = z.output<typeof columnDefinition>;

/** Parses a migration's JSON (or YAML-parsed) form; an error lists every bad field. */
export function parseMigration(input: unknown): Migration {
  return parseOrThrow(migrationSchema, input, 'migration');
}

/** The shape of the database's schema the planner works from (read by migrations/introspect.ts). */
export interface SchemaSnapshot {
  tables: TableSnapshot[];
}
export interface TableSnapshot {
  name: string;
  columns: { name: string; type: string; nullable: boolean; default: string | null }[];
  primaryKey: string[];
}

/** One reason a migration is refused: where, what, and how to fix it. */
export interface MigrationProblem {
  path: string;
  problem: string;
  fix: string;
  /** For a refused long lock: the lock that would be held, and for how long. */
  lock?: string;
}

/** A migration refused before it ran (type 'InvalidInput': retrying cannot help). */
export class MigrationRefusedError extends InvalidInputError {
  constructor(
    readonly migration: string,
    readonly problems: MigrationProblem[],
  ) {
    super(
      `migration '${migration}' refused:\n` +
        problems.map((p) => `  - ${p.path}: ${p.problem}${p.lock ? ` (would hold ${p.lock})` : ''}; ${p.fix}`).join('\n'),
      { problems },
    );
  }
}

/** Functions whose value differs per row: as a column default they make ADD COLUMN rewrite the table. */
const VOLATILE_FUNCTIONS = ['random', 'gen_random_uuid', 'uuid_generate_v4', 'uuid_generate_v1', 'clock_timestamp', 'timeofday', 'nextval', 'txid_current'];

/** Statements in raw SQL that hold a lock for a time that grows with the table, and what to use instead. */
const LONG_LOCK_RULES: { pattern: RegExp; problem: string; lock: string; fix: string }[] = [
  {
    pattern: /\bALTER\s+(COLUMN\s+)?("[^"]+"|\S+)\s+(SET\s+DATA\s+)?TYPE\b/i,
    problem: 'changing a column type in place rewrites the table',
    lock: 'ACCESS EXCLUSIVE for the whole rewrite',
    fix: "use an 'alter_column_type' operation (new column, dual write, batched backfill)",
  },
  {
    pattern: /\bSET\s+NOT\s+NULL\b/i,
    problem: 'SET NOT NULL scans every row',
    lock: 'ACCESS EXCLUSIVE for the whole scan',
    fix: "use 'add_constraint' with kind 'not_null' (CHECK … NOT VALID, then VALIDATE)",
  },
  {
    pattern: /\bADD\s+(CONSTRAINT\s+("[^"]+"|\S+)\s+)?(FOREIGN\s+KEY|CHECK)\b(?![\s\S]*\bNOT\s+VALID\b)/i,
    problem: 'adding a foreign key or check without NOT VALID checks every row',
    lock: 'SHARE ROW EXCLUSIVE / ACCESS EXCLUSIVE for the whole scan',
    fix: "use 'add_constraint' (added NOT VALID, validated after the backfill without blocking writes)",
  },
  {
    pattern: /\bADD\s+(CONSTRAINT\s+("[^"]+"|\S+)\s+)?(UNIQUE|PRIMARY\s+KEY)\b(?!\s+USING\s+INDEX)/i,
    problem: 'adding a unique or primary key constraint builds its index while writes wait',
    lock: 'SHARE for the whole index build',
    fix: "use 'add_constraint' with kind 'unique' (CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX)",
  },
  {
    pattern: /\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)/i,
    problem: 'CREATE INDEX without CONCURRENTLY blocks writes',
    lock: 'SHARE for the whole index build',
    fix: "use a 'create_index' operation (CREATE INDEX CONCURRENTLY)",
  },
  {
    pattern: /\b(VACUUM\s+FULL|CLUSTER|LOCK\s+TABLE|REINDEX\s+(TABLE|INDEX)\b(?!\s+CONCURRENTLY))/i,
    problem: 'this statement locks the table for its whole run',
    lock: 'ACCESS EXCLUSIVE',
    fix: 'run it outside a release (maintenance window), or use REINDEX … CONCURRENTLY / pg_repack',
  },
  {
    pattern: /\b(RENAME\s+(COLUMN\s+)?("[^"]+"|\S+)\s+TO|DROP\s+COLUMN|DROP\s+TABLE|RENAME\s+TO)\b/i,
    problem: 'renaming or dropping in place breaks the version still running',
    lock: 'ACCESS EXCLUSIVE, and the old version fails at once',
    fix: "use 'rename_column', 'drop_column' or 'drop_table' (the old version keeps its view until contract)",
  },
];

/** The problems of a raw SQL statement that would hold a long lock (empty when none). */
export function longLockProblems(sql: string, path: string): MigrationProblem[] {
  return LONG_LOCK_RULES.filter((r) => r.pattern.test(sql)).map((r) => ({ path, problem: r.problem, lock: r.lock, fix: r.fix }));
}

function volatileDefault(expr: string): string | undefined {
  return VOLATILE_FUNCTIONS.find((f) => new RegExp(`\\b${f}\\s*\\(`, 'i').test(expr));
}

/** Which operations need rows rewritten from the old shape (a trigger and a backfill). */
export function needsBackfill(op: Operation): boolean {
  return op.op === 'alter_column_type' || op.op === 'split_column' || op.op === 'add_constraint' || (op.op === 'add_column' && op.up !== undefined);
}

/**
 * Every reason the migration cannot run safely against this database shape (empty: it can).
 * One operation per column: two changes to one column are two migrations, so every step has one meaning.
 */
export function migrationProblems(m: Migration, snapshot: SchemaSnapshot): MigrationProblem[] {
  const problems: MigrationProblem[] = [];
  const tables = new Map(snapshot.tables.map((t) => [t.name, t]));
  const touchedColumns = new Map<string, string>();
  const wholeTable = new Map<string, string>();
  const newNames = new Map<string, Set<string>>();
  const claim = (table: string, column: string, path: string): void => {
    const key = `${table}\u0000${column}`;
    const earlier = touchedColumns.get(key);
    if (earlier) problems.push({ path, problem: `column '${column}' of '${table}' is already changed by ${earlier}`, fix: 'change one column once per migration; put the second change in the next migration' });
    else touchedColumns.set(key, path);
  };
  const claimNewName = (table: string, name: string, path: string, replaces?: string): void => {
    const existing = tables.get(table);
    const names = newNames.get(table) ?? new Set<string>();
    newNames.set(table, names);
    if (names.has(name)) problems.push({ path, problem: `two operations make a column '${name}' in '${table}'`, fix: 'give each new column its own name' });
    else if (existing?.columns.some((c) => c.name === name) && name !== replaces)
      problems.push({ path, problem: `table '${table}' already has a column '${name}'`, fix: 'choose another name, or drop the existing column in an earlier migration' });
    names.add(name);
  };
  const table = (name: string, path: string): TableSnapshot | undefined => {
    const t = tables.get(name);
    if (!t) problems.push({ path, problem: `table '${name}' does not exist in schema '${m.schema}'`, fix: `use one of: ${[...tables.keys()].join(', ') || '(no tables)'}` });
    return t;
  };
  const column = (t: TableSnapshot, name: string, path: string): TableSnapshot['columns'][number] | undefined => {
    const c = t.columns.find((col) => col.name === name);
    if (!c) problems.push({ path, problem: `column '${name}' does not exist in table '${t.name}'`, fix: `use one of: ${t.columns.map((col) => col.name).join(', ')}` });
    return c;
  };
  const helperName = (name: string, path: string): void => {
    if (identifierBytes(name) > MAX_IDENTIFIER_BYTES)
      problems.push({ path, problem: `the helper name '${name}' is longer than ${MAX_IDENTIFIER_BYTES} bytes`, fix: 'shorten the table, column or migration name' });
  };
  const wholeTableOp = (name: string, path: string): void => {
    const earlier = wholeTable.get(name);
    if (earlier) problems.push({ path, problem: `table '${name}' is already created or dropped by ${earlier}`, fix: 'create or drop a table in a migration of its own' });
    wholeTable.set(name, path);
  };

  m.operations.forEach((op, i) => {
    const path = `operations.${i} (${op.op})`;
    if (op.op === 'raw_sql') {
      problems.push(...longLockProblems(op.up, `${path}.up`));
      return;
    }
    if (op.op === 'create_table') {
      if (tables.has(op.table)) problems.push({ path, problem: `table '${op.table}' already exists`, fix: 'choose another name' });
      wholeTableOp(op.table, path);
      if (!op.columns.some((c) => c.primaryKey)) problems.push({ path, problem: `table '${op.table}' has no primary key column`, fix: "mark one column 'primaryKey: true' (backfills walk the primary key)" });
      const seen = new Set<string>();
      op.columns.forEach((c, j) => {
        if (seen.has(c.name)) problems.push({ path: `${path}.columns.${j}`, problem: `column '${c.name}' is listed twice`, fix: 'list each column once' });
        seen.add(c.name);
      });
      return;
    }
    const t = table(op.table, `${path}.table`);
    if (!t) return;
    if (op.op === 'drop_table') {
      wholeTableOp(op.table, path);
      return;
    }
    if (wholeTable.has(op.table)) problems.push({ path, problem: `table '${op.table}' is created or dropped by ${wholeTable.get(op.table)}`, fix: 'change its columns in another migration' });
    if (needsBackfill(op)) {
      if (t.primaryKey.length !== 1)
        problems.push({ path, problem: `table '${t.name}' has ${t.primaryKey.length === 0 ? 'no primary key' : 'a composite primary key'}; the backfill walks a single-column primary key`, fix: 'add a single-column primary key (or a unique not-null column made the key) first' });
      helperName(`_mc_sync_${m.name}`, path);
      helperName(`_mc_${m.name}_${t.name}`, path);
    }
    switch (op.op) {
      case 'add_column': {
        claim(t.name, op.column.name, path);
        claimNewName(t.name, op.column.name, `${path}.column.name`);
        const volatile = op.column.default && volatileDefault(op.column.default);
        if (volatile)
          problems.push({
            path: `${path}.column.default`,
            problem: `the default calls ${volatile}(), which differs per row, so ADD COLUMN rewrites the whole table`,
            lock: 'ACCESS EXCLUSIVE for the whole rewrite',
            fix: `add the column without a default and give 'up: "${op.column.default}"' (filled by the batched backfill)`,
          });
        if (!op.column.nullable && op.column.default === undefined && op.up === undefined)
          problems.push({ path: `${path}.column`, problem: `NOT NULL column '${op.column.name}' has neither a default nor an 'up' expression, so existing rows would have no value`, fix: "give 'default' (a constant) or 'up' (computed per row by the backfill)" });
        if (!op.column.nullable) helperName(`_mc_nn_${op.column.name}`, path);
        break;
      }
      case 'drop_column':
        if (column(t, op.column, `${path}.column`)) claim(t.name, op.column, path);
        if (t.primaryKey.includes(op.column)) problems.push({ path, problem: `'${op.column}' is the primary key of '${t.name}'`, fix: 'a primary key column cannot be dropped by a migration' });
        break;
      case 'rename_column':
        if (column(t, op.from, `${path}.from`)) claim(t.name, op.from, path);
        claimNewName(t.name, op.to, `${path}.to`);
        break;
      case 'alter_column_type':
        if (column(t, op.column, `${path}.column`)) claim(t.name, op.column, path);
        if (t.primaryKey.includes(op.column)) problems.push({ path, problem: `'${op.column}' is the primary key of '${t.name}'; the backfill walks it`, fix: 'change a primary key type with a new table and a copy, not in place' });
        helperName(`_mc_new_${op.column}`, path);
        helperName(`_mc_nn_${op.column}`, path);
        break;
      case 'split_column':
        if (column(t, op.column, `${path}.column`)) claim(t.name, op.column, path);
        if (t.primaryKey.includes(op.column)) problems.push({ path, problem: `'${op.column}' is the primary key of '${t.name}'`, fix: 'split another column' });
        op.into.forEach((c, j) => {
          claimNewName(t.name, c.name, `${path}.into.${j}.name`, op.column);
          helperName(`_mc_new_${c.name}`, `${path}.into.${j}`);
          helperName(`_mc_nn_${c.name}`, `${path}.into.${j}`);
        });
        break;
      case 'add_constraint': {
        if (column(t, op.column, `${path}.column`)) claim(t.name, op.column, path);
        if (t.primaryKey.includes(op.column)) problems.push({ path, problem: `'${op.column}' is the primary key of '${t.name}'; it is already unique and not null`, fix: 'add the constraint to another column' });
        helperName(`_mc_new_${op.column}`, path);
        helperName(`_mc_nn_${op.column}`, path);
        const c = op.constraint;
        if (c.kind === 'foreign_key') {
          const target = table(c.references.table, `${path}.constraint.references.table`);
          if (target) column(target, c.references.column, `${path}.constraint.references.column`);
        }
        break;
      }
      case 'create_index':
        // Columns are named as the new version sees them; they must exist in it.
        break;
    }
  });
  // create_index names the new version's columns, so it is checked once every rename is known.
  m.operations.forEach((op, i) => {
    if (op.op !== 'create_index') return;
    const t = tables.get(op.table);
    if (!t) return;
    const visible = newVersionColumnNames(m, t);
    op.columns.forEach((c, j) => {
      if (!visible.includes(c)) problems.push({ path: `operations.${i} (create_index).columns.${j}`, problem: `the new version of '${t.name}' has no column '${c}'`, fix: `use one of: ${visible.join(', ')}` });
    });
  });
  return problems;
}

/** The column names the new version sees in a table that exists now. */
export function newVersionColumnNames(m: Migration, t: TableSnapshot): string[] {
  const names: string[] = [];
  for (const c of t.columns) {
    const op = m.operations.find((o) => 'table' in o && o.table === t.name && ((('column' in o && o.column === c.name) || (o.op === 'rename_column' && o.from === c.name))));
    if (op?.op === 'drop_column') continue;
    if (op?.op === 'split_column') names.push(...op.into.map((x) => x.name));
    else if (op?.op === 'rename_column') names.push(op.to);
    else names.push(c.name);
  }
  for (const op of m.operations) if (op.op === 'add_column' && op.table === t.name) names.push(op.column.name);
  return names;
}

/** Throws MigrationRefusedError listing every problem, or returns the migration unchanged. */
export function assertMigrationRuns(m: Migration, snapshot: SchemaSnapshot): Migration {
  const problems = migrationProblems(m, snapshot);
  if (problems.length > 0) throw new MigrationRefusedError(m.name, problems);
  return m;
}

export type MigrationPhase = 'expanding' | 'backfilling' | 'validating' | 'ready' | 'contracting' | 'completed' | 'rolling_back' | 'rolled_back';

/** How hard the backfill pushes; changed while it runs by the workflow's `throttle` signal. */
export const backfillThrottleSchema = z
  .object({
    /** Rows per batch (one transaction each). */
    batchSize: z.number().int().min(1).max(100_000),
    /** Pause between batches. */
    delayMs: z.number().int().min(0).max(60_000),
  })
  .strict();
export type BackfillThrottle = z.infer<typeof backfillThrottleSchema>;

export interface MigrationTimeouts {
  /** How long a statement waits for a lock before giving up (and retrying later). */
  lockTimeoutMs: number;
  /** How long one statement (a batch, a step) may run. */
  statementTimeoutMs: number;
}

/** Everything a status page or the workflow query shows about one migration. */
export interface MigrationProgress {
  name: string;
  phase: MigrationPhase;
  /** Which shape the new version's views read (the dual-write guard's flag; 'new' unless switched). */
  readsFrom: 'old' | 'new';
  fromVersion: string;
  toVersion: string;
  /** Steps done / planned in the current phase (expand, validate, contract, rollback). */
  step: number;
  steps: number;
  rowsTotal: number;
  rowsDone: number;
  rowsLeft: number;
  rowsUpdated: number;
  batches: number;
  /** Rows per second over the last backfill slice (0 when not backfilling). */
  rate: number;
  etaSeconds: number | null;
  lockWaits: number;
  errors: number;
  lastError: string | null;
  tables: { table: string; lastKey: string | null; rowsDone: number; batches: number; done: boolean }[];
  startedAt: string;
  updatedAt: string;
}
