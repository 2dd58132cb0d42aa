/**
 * Pure planning of a migration (core/migration.ts) into the SQL of each phase, pgroll-style:
 *
 * - expand: the old version's schema of views (`<schema>_<from>`), the new shape beside the old one
 *   (new columns under helper names, NOT VALID constraints, indexes built CONCURRENTLY), one trigger
 *   per table that keeps both shapes equal on every write, and the new version's schema of views
 *   (`<schema>_<to>`) that shows the new shape under its final names;
 * - backfill: per table, a batch statement that walks the primary key and touches rows not yet
 *   written since expand (a helper flag column), so the trigger fills their new shape;
 * - validate: VALIDATE CONSTRAINT (no write lock) once every row is filled;
 * - contract: drop the old schema and shape, rename the new shape to its final names;
 * - rollback: drop the new shape and the new schema; the old shape and its schema stay as they were;
 * - reads from the old shape (the operator's flag, between expand and contract): the new version's views
 *   compute every column the migration derives (`up`) from the old columns instead of reading the new
 *   ones, at once (one transaction); INSTEAD OF triggers keep those views writable, so the new version
 *   writes as before and the dual-write trigger still fills the old shape. Reads from the new shape again
 *   restore the plain views.
 *
 * The trigger tells the versions apart by `search_path`: a version's connections set it to exactly
 * that version's schema (`versionSearchPath`); every other writer (the old version, the backfill,
 * plain connections) counts as old.
 */
import type { Migration, Operation, SchemaSnapshot, TableSnapshot } from './migration';
import { qualified, quoteIdent, quoteLiteral, renameColumnReference } from './sql-text';

export interface SqlStep {
  description: string;
  sql: string;
  /** False for statements PostgreSQL refuses inside a transaction (… CONCURRENTLY). */
  transactional: boolean;
  /** For a rollback step: the index of the expand step it undoes (run only when that step ran). */
  undoes?: number;
}

export interface BackfillTarget {
  table: string;
  primaryKey: string;
  primaryKeyType: string;
  /** Parameters: $1 batch size. Returns scanned, lastKey (text), updated. */
  firstBatchSql: string;
  /** Parameters: $1 batch size, $2 the last key of the previous batch (text). */
  nextBatchSql: string;
  /** Counts the rows the backfill still has to touch. */
  remainingSql: string;
}

export interface MigrationPlan {
  oldSchema: string;
  newSchema: string;
  expand: SqlStep[];
  backfill: BackfillTarget[];
  validate: SqlStep[];
  contract: SqlStep[];
  rollback: SqlStep[];
  /** The flag on: the new version reads the old shape (empty when it reads no column derived from the old one). */
  readsFromOld: SqlStep[];
  /** The flag off again: the new version's plain views. */
  readsFromNew: SqlStep[];
}

/** Which shape the new version's views read while both shapes exist. */
export type ReadShape = 'old' | 'new';

/** The schema of views an application version reads and writes through. */
export const versionSchema = (schema: string, version: string): string => `${schema}_${version}`;
/** The exact search_path a version's connections set (the trigger compares it verbatim). */
export const versionSearchPath = (schema: string, version: string): string => versionSchema(schema, version);

const newPhysical = (column: string): string => `_mc_new_${column}`;
const notNullCheck = (column: string): string => `_mc_nn_${column}`;
const syncColumn = (migration: string): string => `_mc_sync_${migration}`;
const triggerName = (migration: string, table: string): string => `_mc_${migration}_${table}`;
/** The INSTEAD OF trigger function that keeps a view reading the old shape writable. */
const viewWriterName = (table: string): string => `_mc_write_${table}`;

interface ViewColumn {
  name: string;
  physical: string;
  type: string;
}

/** What a migration does to one existing table. */
interface TableChange {
  table: TableSnapshot;
  /** The new version's columns, in the physical order they will have after contract. */
  newColumns: ViewColumn[];
  added: { physical: string; type: string; default?: string }[];
  /** Assignments for writes of the old version (and the backfill): physical column := expression over old columns. */
  ups: { physical: string; expression: string }[];
  /** Assignments for writes of the new version: old physical column := expression over new columns. */
  downs: { physical: string; expression: string }[];
  notNull: { physical: string; final: string }[];
  notValid: { name: string; definition: string }[];
  uniqueIndexes: { name: string; physical: string }[];
  dropOnContract: string[];
  renameOnContract: { from: string; to: string }[];
  backfill: boolean;
}

function changeOf(m: Migration, t: TableSnapshot): TableChange {
  const ops = m.operations.filter((o): o is Exclude<Operation, { op: 'raw_sql' }> => o.op !== 'raw_sql' && o.table === t.name);
  const change: TableChange = {
    table: t,
    newColumns: [],
    added: [],
    ups: [],
    downs: [],
    notNull: [],
    notValid: [],
    uniqueIndexes: [],
    dropOnContract: [],
    renameOnContract: [],
    backfill: false,
  };
  const appended: ViewColumn[] = [];
  /** Adds a replacement column of `column` (helper name until contract). */
  const replacement = (final: string, type: string, up: string, nullable: boolean): string => {
    const physical = newPhysical(final);
    change.added.push({ physical, type });
    change.ups.push({ physical, expression: up });
    if (!nullable) change.notNull.push({ physical, final });
    change.renameOnContract.push({ from: physical, to: final });
    appended.push({ name: final, physical, type });
    change.backfill = true;
    return physical;
  };
  for (const col of t.columns) {
    const op = ops.find((o) => ('column' in o && o.column === col.name) || (o.op === 'rename_column' && o.from === col.name));
    switch (op?.op) {
      case 'drop_column':
        change.dropOnContract.push(col.name);
        if (op.down) change.downs.push({ physical: col.name, expression: op.down });
        break;
      case 'rename_column':
        change.newColumns.push({ name: op.to, physical: col.name, type: col.type });
        change.renameOnContract.push({ from: col.name, to: op.to });
        break;
      case 'alter_column_type':
        replacement(col.name, op.type, op.up, col.nullable);
        change.downs.push({ physical: col.name, expression: op.down });
        change.dropOnContract.push(col.name);
        break;
      case 'split_column':
        for (const part of op.into) replacement(part.name, part.type, part.up, part.nullable);
        change.downs.push({ physical: col.name, expression: op.down });
        change.dropOnContract.push(col.name);
        break;
      case 'add_constraint': {
        const c = op.constraint;
        const physical = replacement(col.name, col.type, op.up ?? quoteIdent(col.name), col.nullable && c.kind !== 'not_null');
        change.downs.push({ physical: col.name, expression: op.down ?? quoteIdent(col.name) });
        change.dropOnContract.push(col.name);
        if (c.kind === 'unique') change.uniqueIndexes.push({ name: c.name, physical });
        if (c.kind === 'check') change.notValid.push({ name: c.name, definition: `CHECK (${renameColumnReference(c.expression, col.name, physical)})` });
        if (c.kind === 'foreign_key')
          change.notValid.push({
            name: c.name,
            definition: `FOREIGN KEY (${quoteIdent(physical)}) REFERENCES ${qualified(m.schema, c.references.table)} (${quoteIdent(c.references.column)}) ON DELETE ${c.onDelete}`,
          });
        break;
      }
      default:
        change.newColumns.push({ name: col.name, physical: col.name, type: col.type });
    }
  }
  for (const op of ops) {
    if (op.op !== 'add_column') continue;
    const c = op.column;
    change.added.push({ physical: c.name, type: c.type, default: c.default });
    if (op.up) {
      change.ups.push({ physical: c.name, expression: op.up });
      change.backfill = true;
    }
    if (!c.nullable) change.notNull.push({ physical: c.name, final: c.name });
    // Added columns land after the replacement columns of the same migration (operation order).
  }
  // Physical order after contract: kept columns, then columns added in operation order.
  const addedInOrder = change.added.map((a) => appended.find((v) => v.physical === a.physical) ?? { name: a.physical, physical: a.physical, type: a.type });
  change.newColumns.push(...addedInOrder);
  return change;
}

const columnList = (cols: ViewColumn[]): string =>
  cols.map((c) => (c.name === c.physical ? quoteIdent(c.name) : `${quoteIdent(c.physical)} AS ${quoteIdent(c.name)}`)).join(', ');

function triggerFunctionSql(m: Migration, ch: TableChange, newSearchPath: string): string {
  const t = ch.table;
  const declare = (cols: { name: string; physical: string; type: string }[]): string =>
    cols.map((c) => `      ${quoteIdent(c.name)} ${c.type} := NEW.${quoteIdent(c.physical)};`).join('\n');
  const assign = (list: { physical: string; expression: string }[]): string =>
    list.map((a) => `      NEW.${quoteIdent(a.physical)} := (${a.expression});`).join('\n') || '      NULL;';
  const sync = ch.backfill ? `  NEW.${quoteIdent(syncColumn(m.name))} := true;\n` : '';
  return `CREATE OR REPLACE FUNCTION ${qualified(m.schema, triggerName(m.name, t.name))}() RETURNS trigger LANGUAGE plpgsql AS $mc$
#variable_conflict use_variable
BEGIN
  IF current_setting('search_path') = ${quoteLiteral(newSearchPath)} THEN
    DECLARE
${declare(ch.newColumns)}
    BEGIN
${assign(ch.downs)}
    END;
  ELSE
    DECLARE
${declare(t.columns.map((c) => ({ name: c.name, physical: c.name, type: c.type })))}
    BEGIN
${assign(ch.ups)}
    END;
  END IF;
${sync}  RETURN NEW;
END
$mc$`;
}

/**
 * The new version's view of one table reading the old shape: each derived column is its `up` expression over
 * the old columns. Such a view is not auto-updatable, so an INSTEAD OF trigger writes through to the table
 * (the table's own dual-write trigger then derives the old columns, as for any write of the new version).
 * Defaults are copied onto the view, so an INSERT that leaves a column out gets the table's default.
 */
function readBackSql(m: Migration, ch: TableChange, newSchema: string): string {
  const t = ch.table;
  const table = qualified(m.schema, t.name);
  const view = qualified(newSchema, t.name);
  const writer = qualified(newSchema, viewWriterName(t.name));
  const derived = new Map(ch.ups.map((u) => [u.physical, u.expression]));
  const readOf = (c: ViewColumn): string => (derived.has(c.physical) ? `CAST((${derived.get(c.physical)}) AS ${c.type})` : quoteIdent(c.physical));
  const cols = ch.newColumns;
  const viewNameOf = (physical: string): string => cols.find((c) => c.physical === physical)?.name ?? physical;
  const keyMatch = t.primaryKey.map((k) => `${quoteIdent(k)} = OLD.${quoteIdent(viewNameOf(k))}`).join(' AND ');
  const into = cols.map((c) => `NEW.${quoteIdent(c.name)}`).join(', ');
  const returning = cols.map(readOf).join(', ');
  const defaults = cols.flatMap((c) => {
    const d = t.columns.find((col) => col.name === c.physical)?.default ?? ch.added.find((a) => a.physical === c.physical)?.default;
    return d == null ? [] : [`ALTER VIEW ${view} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT ${d}`];
  });
  return [
    `DROP VIEW IF EXISTS ${view} CASCADE`,
    `CREATE VIEW ${view} AS SELECT ${cols.map((c) => `${readOf(c)} AS ${quoteIdent(c.name)}`).join(', ')} FROM ${table}`,
    ...defaults,
    `CREATE OR REPLACE FUNCTION ${writer}() RETURNS trigger LANGUAGE plpgsql AS $mc$
#variable_conflict use_column
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM ${table} WHERE ${keyMatch};
    RETURN OLD;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO ${table} (${cols.map((c) => quoteIdent(c.physical)).join(', ')}) VALUES (${cols.map((c) => `NEW.${quoteIdent(c.name)}`).join(', ')})
      RETURNING ${returning} INTO ${into};
    RETURN NEW;
  ELSE
    UPDATE ${table} SET ${cols.map((c) => `${quoteIdent(c.physical)} = NEW.${quoteIdent(c.name)}`).join(', ')} WHERE ${keyMatch}
      RETURNING ${returning} INTO ${into};
    RETURN NEW;
  END IF;
END
$mc$`,
    `CREATE TRIGGER _mc_write INSTEAD OF INSERT OR UPDATE OR DELETE ON ${view} FOR EACH ROW EXECUTE FUNCTION ${writer}()`,
  ].join(';\n');
}

function viewsSql(schemaName: string, physicalSchema: string, views: { table: string; columns: ViewColumn[] }[]): string {
  return views.map((v) => `CREATE OR REPLACE VIEW ${qualified(schemaName, v.table)} AS SELECT ${columnList(v.columns)} FROM ${qualified(physicalSchema, v.table)}`).join(';\n');
}

function backfillTarget(m: Migration, t: TableSnapshot): BackfillTarget {
  const pk = t.primaryKey[0];
  const pkType = t.columns.find((c) => c.name === pk)?.type ?? 'text';
  const table = qualified(m.schema, t.name);
  const sync = quoteIdent(syncColumn(m.name));
  const batch = (where: string): string => `WITH batch AS (SELECT ${quoteIdent(pk)} AS k FROM ${table}${where} ORDER BY ${quoteIdent(pk)} LIMIT $1),
touched AS (UPDATE ${table} AS mc_row SET ${sync} = true FROM batch WHERE mc_row.${quoteIdent(pk)} = batch.k AND mc_row.${sync} IS NOT TRUE RETURNING 1)
SELECT (SELECT count(*) FROM batch)::int AS scanned, (SELECT k FROM batch ORDER BY k DESC LIMIT 1)::text AS "lastKey", (SELECT count(*) FROM touched)::int AS updated`;
  return {
    table: t.name,
    primaryKey: pk,
    primaryKeyType: pkType,
    firstBatchSql: batch(''),
    nextBatchSql: batch(` WHERE ${quoteIdent(pk)} > $2::${pkType}`),
    remainingSql: `SELECT count(*)::bigint AS remaining FROM ${table} WHERE ${sync} IS NOT TRUE`,
  };
}

/** Plans a migration already checked by `assertMigrationRuns` against the same snapshot. */
export function planMigration(m: Migration, snapshot: SchemaSnapshot): MigrationPlan {
  const oldSchema = versionSchema(m.schema, m.fromVersion);
  const newSchema = versionSchema(m.schema, m.toVersion);
  const dropped = new Set(m.operations.flatMap((o) => (o.op === 'drop_table' ? [o.table] : [])));
  const created = m.operations.filter((o): o is Extract<Operation, { op: 'create_table' }> => o.op === 'create_table');
  const changes = snapshot.tables.map((t) => changeOf(m, t));
  const altered = changes.filter((c) => c.added.length > 0 || c.downs.length > 0 || c.notValid.length > 0 || c.renameOnContract.length > 0 || c.dropOnContract.length > 0);
  const expand: SqlStep[] = [];
  const rollback: SqlStep[] = [];
  const validate: SqlStep[] = [];
  const contract: SqlStep[] = [];
  const tx = (description: string, sql: string): SqlStep => ({ description, sql, transactional: true });
  const concurrent = (description: string, sql: string): SqlStep => ({ description, sql, transactional: false });

  expand.push(
    tx(
      `views of the old version (${oldSchema})`,
      [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(oldSchema)}`, viewsSql(oldSchema, m.schema, snapshot.tables.map((t) => ({ table: t.name, columns: t.columns.map((c) => ({ name: c.name, physical: c.name, type: c.type })) })))]
        .filter(Boolean)
        .join(';\n'),
    ),
  );
  for (const op of created) {
    const cols = op.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.nullable ? '' : ' NOT NULL'}${c.default !== undefined ? ` DEFAULT ${c.default}` : ''}`);
    const pk = op.columns.filter((c) => c.primaryKey).map((c) => quoteIdent(c.name));
    expand.push(tx(`create table ${op.table}`, `CREATE TABLE ${qualified(m.schema, op.table)} (${[...cols, `PRIMARY KEY (${pk.join(', ')})`].join(', ')})`));
  }
  for (const ch of altered) {
    const t = qualified(m.schema, ch.table.name);
    const stmts: string[] = [];
    const adds = ch.added.map((a) => `ADD COLUMN ${quoteIdent(a.physical)} ${a.type}${a.default !== undefined ? ` DEFAULT ${a.default}` : ''}`);
    if (ch.backfill) adds.push(`ADD COLUMN ${quoteIdent(syncColumn(m.name))} boolean`);
    const constraints = [
      ...ch.notNull.map((n) => ({ name: notNullCheck(n.final), definition: `CHECK (${quoteIdent(n.physical)} IS NOT NULL)` })),
      ...ch.notValid,
    ];
    const alter = [...adds, ...constraints.map((c) => `ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition} NOT VALID`)];
    if (alter.length > 0) stmts.push(`ALTER TABLE ${t} ${alter.join(', ')}`);
    if (ch.ups.length > 0 || ch.downs.length > 0 || ch.backfill) {
      stmts.push(triggerFunctionSql(m, ch, versionSearchPath(m.schema, m.toVersion)));
      stmts.push(`CREATE OR REPLACE TRIGGER ${quoteIdent(triggerName(m.name, ch.table.name))} BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${qualified(m.schema, triggerName(m.name, ch.table.name))}()`);
    }
    if (stmts.length > 0) expand.push(tx(`new shape of ${ch.table.name} and its dual-write trigger`, stmts.join(';\n')));
    for (const c of constraints) validate.push(tx(`validate ${c.name} on ${ch.table.name}`, `ALTER TABLE ${t} VALIDATE CONSTRAINT ${quoteIdent(c.name)}`));
    for (const u of ch.uniqueIndexes) {
      expand.push(concurrent(`clear a failed build of index ${u.name}`, `DROP INDEX CONCURRENTLY IF EXISTS ${qualified(m.schema, u.name)}`));
      expand.push(concurrent(`unique index ${u.name} on ${ch.table.name}`, `CREATE UNIQUE INDEX CONCURRENTLY ${quoteIdent(u.name)} ON ${t} (${quoteIdent(u.physical)})`));
    }
  }
  const indexColumn = (table: string, name: string): string => changes.find((c) => c.table.name === table)?.newColumns.find((c) => c.name === name)?.physical ?? name;
  for (const op of m.operations) {
    if (op.op !== 'create_index') continue;
    expand.push(concurrent(`clear a failed build of index ${op.name}`, `DROP INDEX CONCURRENTLY IF EXISTS ${qualified(m.schema, op.name)}`));
    expand.push(concurrent(`index ${op.name} on ${op.table}`, `CREATE INDEX CONCURRENTLY ${quoteIdent(op.name)} ON ${qualified(m.schema, op.table)} (${op.columns.map((c) => quoteIdent(indexColumn(op.table, c))).join(', ')})`));
  }
  const rawUndo: SqlStep[] = [];
  m.operations.forEach((op, i) => {
    if (op.op !== 'raw_sql') return;
    rawUndo.unshift({ ...tx(`undo raw SQL of operation ${i}`, op.down), undoes: expand.length });
    expand.push(tx(`raw SQL of operation ${i}`, op.up));
  });
  const newViews = [
    ...changes.filter((c) => !dropped.has(c.table.name)).map((c) => ({ table: c.table.name, columns: c.newColumns })),
    ...created.map((op) => ({ table: op.table, columns: op.columns.map((c) => ({ name: c.name, physical: c.name, type: c.type })) })),
  ];
  expand.push(tx(`views of the new version (${newSchema})`, [`DROP SCHEMA IF EXISTS ${quoteIdent(newSchema)} CASCADE`, `CREATE SCHEMA ${quoteIdent(newSchema)}`, viewsSql(newSchema, m.schema, newViews)].filter(Boolean).join(';\n')));

  rollback.push(tx(`drop the new version's views (${newSchema})`, `DROP SCHEMA IF EXISTS ${quoteIdent(newSchema)} CASCADE`));
  rollback.push(...rawUndo);
  for (const op of m.operations) if (op.op === 'create_index') rollback.push(concurrent(`drop index ${op.name}`, `DROP INDEX CONCURRENTLY IF EXISTS ${qualified(m.schema, op.name)}`));
  for (const ch of altered) {
    const t = qualified(m.schema, ch.table.name);
    const drops = [...ch.added.map((a) => a.physical), ...(ch.backfill ? [syncColumn(m.name)] : [])].map((c) => `DROP COLUMN IF EXISTS ${quoteIdent(c)}`);
    const stmts = [`DROP TRIGGER IF EXISTS ${quoteIdent(triggerName(m.name, ch.table.name))} ON ${t}`, `DROP FUNCTION IF EXISTS ${qualified(m.schema, triggerName(m.name, ch.table.name))}()`];
    // Constraints and indexes on the new columns go with them.
    if (drops.length > 0) stmts.push(`ALTER TABLE ${t} ${drops.join(', ')}`);
    rollback.push(tx(`drop the new shape of ${ch.table.name}`, stmts.join(';\n')));
  }
  for (const op of created) rollback.push(tx(`drop created table ${op.table}`, `DROP TABLE IF EXISTS ${qualified(m.schema, op.table)}`));

  contract.push(tx(`drop the old version's views (${oldSchema})`, `DROP SCHEMA IF EXISTS ${quoteIdent(oldSchema)} CASCADE`));
  for (const ch of altered) {
    const t = qualified(m.schema, ch.table.name);
    // One transaction per table: the old columns lose their trigger and go at the same instant.
    const stmts = [`DROP TRIGGER IF EXISTS ${quoteIdent(triggerName(m.name, ch.table.name))} ON ${t}`, `DROP FUNCTION IF EXISTS ${qualified(m.schema, triggerName(m.name, ch.table.name))}()`];
    const drops = [...ch.dropOnContract, ...(ch.backfill ? [syncColumn(m.name)] : [])];
    if (drops.length > 0) stmts.push(`ALTER TABLE ${t} ${drops.map((c) => `DROP COLUMN ${quoteIdent(c)}`).join(', ')}`);
    for (const r of ch.renameOnContract) stmts.push(`ALTER TABLE ${t} RENAME COLUMN ${quoteIdent(r.from)} TO ${quoteIdent(r.to)}`);
    for (const n of ch.notNull) {
      // With the validated CHECK in place, SET NOT NULL skips its table scan (PostgreSQL 12+).
      stmts.push(`ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(n.final)} SET NOT NULL, DROP CONSTRAINT ${quoteIdent(notNullCheck(n.final))}`);
    }
    for (const u of ch.uniqueIndexes) stmts.push(`ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(u.name)} UNIQUE USING INDEX ${quoteIdent(u.name)}`);
    contract.push(tx(`final shape of ${ch.table.name}`, stmts.join(';\n')));
  }
  for (const name of dropped) contract.push(tx(`drop table ${name}`, `DROP TABLE ${qualified(m.schema, name)}`));

  const backfill = changes.filter((c) => c.backfill).map((c) => backfillTarget(m, c.table));
  const readBack = altered.filter((c) => !dropped.has(c.table.name) && c.ups.some((u) => c.newColumns.some((col) => col.physical === u.physical)));
  const readsFromOld = readBack.length
    ? [tx(`the new version reads the old shape (${readBack.map((c) => c.table.name).join(', ')})`, readBack.map((c) => readBackSql(m, c, newSchema)).join(';\n'))]
    : [];
  const readsFromNew = readBack.length
    ? [
        tx(
          `the new version reads the new shape (${readBack.map((c) => c.table.name).join(', ')})`,
          readBack
            .flatMap((c) => [
              `DROP VIEW IF EXISTS ${qualified(newSchema, c.table.name)} CASCADE`,
              `DROP FUNCTION IF EXISTS ${qualified(newSchema, viewWriterName(c.table.name))}()`,
              viewsSql(newSchema, m.schema, [{ table: c.table.name, columns: c.newColumns }]),
            ])
            .join(';\n'),
        ),
      ]
    : [];
  return { oldSchema, newSchema, expand, backfill, validate, contract, rollback, readsFromOld, readsFromNew };
}
