/**
 * A migration (core/migration.ts) derived from a change to a Prisma schema. Prisma's own migrate turns a
 * rename or a type change into one ALTER that the running version does not survive; here the common cases
 * become expand/contract operations: a new table, an added column (with a constant default or nullable),
 * a renamed column, a changed column type, a new index, a dropped column or table. Everything else is
 * refused with what changed and where, and the user writes that migration by hand.
 *
 * A rename is ambiguous in a schema diff (a field gone, another new): it is derived only when the column
 * stays one Prisma field whose `@map` changed, or when the change request names it in `renames`.
 * Parsing is @mrleebo/prisma-ast's (a real grammar, with line numbers); the database shape is PostgreSQL's
 * as Prisma creates it (String → text, DateTime → timestamp(3), `@db.*` native types, …).
 */
import { getSchema, PrismaParser, VisitorClassFactory, type Attribute, type BlockAttribute, type Field, type Func, type Value } from '@mrleebo/prisma-ast';
import { InvalidInputError } from './errors';
import { parseMigration, type Migration, type Operation, type PrismaDerivation, type PrismaRename } from './migration';
import { quoteIdent, quoteLiteral } from './sql-text';


/** One thing the derivation cannot turn into a safe migration: where it is and what it is. */
export interface UnderivableChange {
  where: string;
  what: string;
}

/** Refused: the listed changes need a migration written by hand (`migration.definition`). */
export class PrismaMigrationNotDerivedError extends InvalidInputError {
  constructor(
    readonly file: string,
    readonly changes: UnderivableChange[],
  ) {
    super(
      `cannot derive a migration from the change to ${file}:\n` +
        changes.map((c) => `  - ${c.where}: ${c.what}`).join('\n') +
        `\nwrite this migration by hand in the change request ('migration.definition', docs/architecture.md "Zero-downtime database migrations")`,
      { changes },
    );
  }
}

/** The operations a schema change needs, and how each rename was recognised. */
export interface DerivedOperations {
  operations: Operation[];
  notes: string[];
}

interface Column {
  field: string;
  column: string;
  type: string;
  nullable: boolean;
  default: DefaultValue;
  id: boolean;
  unique: boolean;
  line: number;
}
type DefaultValue = { kind: 'none' } | { kind: 'sql'; sql: string } | { kind: 'client'; fn: string } | { kind: 'unsupported'; text: string };
interface Table {
  model: string;
  table: string;
  line: number;
  columns: Column[];
  /** @@index lists by column name, with their database names. */
  indexes: { name: string; columns: string[] }[];
  /** Other model attributes (@@id, @@unique, @@schema), printed: any change to them is refused. */
  constraints: string[];
  /** Relation fields that own a foreign key (`@relation(fields: …)`), printed. */
  foreignKeys: string[];
}
interface ParsedSchema {
  provider: string | undefined;
  tables: Map<string, Table>;
  enums: Map<string, string>;
}

const SCALARS: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3)',
  Json: 'jsonb',
  Bytes: 'bytea',
};
const NATIVE: Record<string, string> = {
  Text: 'text',
  VarChar: 'varchar',
  Char: 'char',
  Citext: 'citext',
  Uuid: 'uuid',
  Xml: 'xml',
  Inet: 'inet',
  Bit: 'bit',
  VarBit: 'varbit',
  Boolean: 'boolean',
  SmallInt: 'smallint',
  Integer: 'integer',
  BigInt: 'bigint',
  Oid: 'oid',
  Real: 'real',
  DoublePrecision: 'double precision',
  Decimal: 'numeric',
  Money: 'money',
  Timestamp: 'timestamp',
  Timestamptz: 'timestamptz',
  Date: 'date',
  Time: 'time',
  Timetz: 'timetz',
  Json: 'json',
  JsonB: 'jsonb',
  ByteA: 'bytea',
};
/** Type families whose values PostgreSQL casts both ways (narrowing fails only for values that do not fit). */
const CAST_FAMILIES = [
  ['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision'],
  ['text', 'varchar', 'char', 'citext'],
  ['timestamp', 'timestamptz', 'date'],
  ['json', 'jsonb'],
];
/** Prisma's client-side default generators: the database has no default for them. */
const CLIENT_DEFAULTS = ['uuid', 'cuid', 'nanoid', 'ulid'];

// One parser with line numbers; prisma-ast's default one tracks no locations.
const parser = new PrismaParser({ nodeLocationTracking: 'full' });
const visitor = new (VisitorClassFactory(parser))(parser);

const unquote = (text: string): string => (text.startsWith('"') ? (JSON.parse(text) as string) : text);
const isFunc = (v: unknown): v is Func => typeof v === 'object' && v !== null && (v as { type?: string }).type === 'function';
const printValue = (v: Value | Func | undefined): string => {
  if (v === undefined || v === null) return '';
  if (isFunc(v)) return `${v.name}(${(v.params ?? []).map(printValue).join(', ')})`;
  if (Array.isArray(v)) return `[${v.map(printValue).join(', ')}]`;
  if (typeof v === 'object') return v.type === 'array' ? `[${v.args.map(printValue).join(', ')}]` : JSON.stringify(v);
  return String(v);
};
const printAttribute = (a: Attribute | BlockAttribute): string =>
  `${a.group ? `${a.group}.` : ''}${a.name}(${(a.args ?? [])
    .map((arg) => {
      const v = arg.value;
      return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as { type?: string }).type === 'keyValue'
        ? `${(v as { key: string }).key}: ${printValue((v as { value: Value }).value)}`
        : printValue(v as Value);
    })
    .join(', ')})`;
const argValues = (a: Attribute | BlockAttribute | undefined): (Value | Func)[] =>
  (a?.args ?? []).map((arg) => arg.value).filter((v) => !(typeof v === 'object' && v !== null && !Array.isArray(v) && (v as { type?: string }).type === 'keyValue')) as (Value | Func)[];
const keyedArg = (a: Attribute | BlockAttribute, key: string): Value | undefined => {
  for (const arg of a.args ?? []) {
    const v = arg.value as { type?: string; key?: string; value?: Value };
    if (typeof v === 'object' && v !== null && v.type === 'keyValue' && v.key === key) return v.value;
  }
  return undefined;
};
const names = (v: Value | Func | undefined): string[] => {
  if (v && typeof v === 'object' && !Array.isArray(v) && (v as { type?: string }).type === 'array') return (v as { args: Value[] }).args.map((x) => printValue(x).replace(/\(.*\)$/, ''));
  return [];
};

/** Parses a schema.prisma text; a syntax error is bad input with its line and column. */
function parseSchemaText(text: string, file: string, side: string): ParsedSchema {
  let ast;
  try {
    ast = getSchema(text, { parser, visitor });
  } catch (err) {
    const token = (err as { token?: { startLine?: number; startColumn?: number; image?: string } }).token;
    const at = token?.startLine !== undefined ? `${file}:${token.startLine}:${token.startColumn}` : file;
    throw new InvalidInputError(`the ${side} ${file} is not a valid Prisma schema: ${at}: ${(err as Error).message}${token?.image ? ` (at '${token.image}')` : ''}`);
  }
  const enums = new Map<string, string>();
  const models = new Set<string>();
  let provider: string | undefined;
  for (const block of ast.list) {
    if (block.type === 'model' || block.type === 'type' || block.type === 'view') models.add(block.name);
    if (block.type === 'enum') {
      const map = block.enumerators.find((e): e is BlockAttribute => e.type === 'attribute' && e.name === 'map');
      const values = block.enumerators.flatMap((e) => (e.type === 'enumerator' ? [e.name] : []));
      enums.set(block.name, `${map ? unquote(printValue(argValues(map)[0] as Value)) : block.name}:${values.join(',')}`);
    }
    if (block.type === 'datasource')
      for (const a of block.assignments) if (a.type === 'assignment' && a.key === 'provider') provider = unquote(printValue(a.value));
  }
  const tables = new Map<string, Table>();
  for (const block of ast.list) {
    if (block.type !== 'model') continue;
    const attrs = block.properties.filter((p): p is BlockAttribute => p.type === 'attribute');
    const mapAttr = attrs.find((a) => a.name === 'map' && !a.group);
    const table: Table = {
      model: block.name,
      table: mapAttr ? unquote(printValue(argValues(mapAttr)[0])) : block.name,
      line: block.location?.startLine ?? 0,
      columns: [],
      indexes: [],
      constraints: attrs.filter((a) => a.name !== 'map' && a.name !== 'index' && a.name !== 'ignore').map((a) => `@@${printAttribute(a)}`),
      foreignKeys: [],
    };
    for (const f of block.properties.filter((p): p is Field => p.type === 'field')) {
      const fieldAttrs = f.attributes ?? [];
      const relation = fieldAttrs.find((a) => a.name === 'relation');
      const typeName = typeof f.fieldType === 'string' ? f.fieldType : f.fieldType.name;
      if (models.has(typeName)) {
        if (relation && keyedArg(relation, 'fields') !== undefined) table.foreignKeys.push(`${f.name}: ${printAttribute(relation)}`);
        continue;
      }
      table.columns.push(columnOf(f, enums));
    }
    const columnName = (field: string): string => table.columns.find((c) => c.field === field)?.column ?? field;
    for (const a of attrs.filter((x) => x.name === 'index')) {
      const columns = names(argValues(a)[0] ?? keyedArg(a, 'fields')).map(columnName);
      const map = keyedArg(a, 'map') ?? keyedArg(a, 'name');
      table.indexes.push({ name: map !== undefined ? unquote(printValue(map)) : `${table.table}_${columns.join('_')}_idx`, columns });
    }
    tables.set(table.table, table);
  }
  return { provider, tables, enums };
}

function columnOf(f: Field, enums: Map<string, string>): Column {
  const attrs = f.attributes ?? [];
  const attr = (name: string) => attrs.find((a) => a.name === name && !a.group);
  const native = attrs.find((a) => a.group === 'db');
  const typeName = typeof f.fieldType === 'string' ? f.fieldType : printValue(f.fieldType);
  let type: string;
  if (native) {
    const base = NATIVE[native.name] ?? `unknown native type @db.${native.name}`;
    const args = argValues(native).map((v) => printValue(v as Value));
    type = args.length ? `${base}(${args.join(',')})` : base;
  } else if (SCALARS[typeName]) type = SCALARS[typeName]!;
  else if (enums.has(typeName)) type = quoteIdent(enums.get(typeName)!.split(':')[0]!);
  else type = `unsupported type ${typeName}`;
  if (f.array) type += '[]';
  const map = attr('map');
  return {
    field: f.name,
    column: map ? unquote(printValue(argValues(map)[0])) : f.name,
    type,
    nullable: f.optional === true,
    default: defaultOf(attr('default'), enums.has(typeName)),
    id: attr('id') !== undefined,
    unique: attr('unique') !== undefined,
    line: f.location?.startLine ?? 0,
  };
}

function defaultOf(a: Attribute | undefined, isEnum: boolean): DefaultValue {
  if (!a) return { kind: 'none' };
  const v = argValues(a)[0];
  if (isFunc(v)) {
    if (v.name === 'now') return { kind: 'sql', sql: 'CURRENT_TIMESTAMP' };
    if (v.name === 'dbgenerated' && typeof v.params?.[0] === 'string') return { kind: 'sql', sql: unquote(v.params[0]) };
    if (CLIENT_DEFAULTS.includes(v.name)) return { kind: 'client', fn: `${v.name}()` };
    return { kind: 'unsupported', text: printValue(v) };
  }
  if (typeof v === 'string') {
    if (v.startsWith('"')) return { kind: 'sql', sql: quoteLiteral(unquote(v)) };
    if (v === 'true' || v === 'false') return { kind: 'sql', sql: v.toUpperCase() };
    if (/^-?\d+(\.\d+)?$/.test(v)) return { kind: 'sql', sql: v };
    if (isEnum && /^[A-Za-z_]\w*$/.test(v)) return { kind: 'sql', sql: quoteLiteral(v) };
  }
  return { kind: 'unsupported', text: printValue(v as Value) };
}

const typeBase = (type: string): string => type.replace(/\(.*\)$/, '');
const castable = (from: string, to: string): boolean =>
  !from.endsWith('[]') && !to.endsWith('[]') && CAST_FAMILIES.some((family) => family.includes(typeBase(from)) && family.includes(typeBase(to)));
const defaultText = (d: DefaultValue): string => (d.kind === 'sql' ? d.sql : d.kind === 'client' ? d.fn : d.kind === 'unsupported' ? d.text : 'none');

/**
 * The operations that take the database from the base schema's shape to the candidate's (empty when the
 * change touches nothing in the database), or PrismaMigrationNotDerivedError listing everything that
 * needs a migration written by hand. `base` is '' for a schema the change creates.
 */
export function derivePrismaOperations(base: string, candidate: string, file: string, renames: PrismaRename[] = []): DerivedOperations {
  const before = parseSchemaText(base, file, 'base');
  const after = parseSchemaText(candidate, file, 'candidate');
  const refused: UnderivableChange[] = [];
  const notes: string[] = [];
  const operations: Operation[] = [];
  const at = (t: Table, c?: Column): string => `${file}:${c?.line ?? t.line} (model ${t.model}${c ? `, field ${c.field}` : ''})`;
  const refuse = (where: string, what: string): void => void refused.push({ where, what });

  const provider = after.provider ?? before.provider;
  if (provider !== undefined && provider !== 'postgresql' && provider !== 'postgres')
    refuse(`${file} (datasource)`, `provider '${provider}': migrations run on PostgreSQL only`);
  for (const [name, shape] of after.enums)
    if (before.enums.get(name) !== shape) refuse(`${file} (enum ${name})`, `${before.enums.has(name) ? 'an enum changed' : 'a new enum'}: its type needs CREATE TYPE / ALTER TYPE before the columns that use it`);
  for (const name of before.enums.keys()) if (!after.enums.has(name)) refuse(`${file} (enum ${name})`, 'an enum was removed: dropping its type must wait until no version uses it');
  for (const hint of renames)
    if (![...after.tables.values()].some((t) => t.model === hint.model && t.columns.some((c) => c.field === hint.to)))
      refuse(`renames (${hint.model}.${hint.from} → ${hint.to})`, `the candidate schema has no field '${hint.to}' in a model '${hint.model}'`);

  const created = [...after.tables.values()].filter((t) => !before.tables.has(t.table));
  const dropped = [...before.tables.values()].filter((t) => !after.tables.has(t.table));
  if (created.length > 0 && dropped.length > 0)
    for (const t of created)
      refuse(at(t), `table '${t.table}' is new while ${dropped.map((d) => `'${d.table}'`).join(', ')} went: if it is a rename, keep the table's name with @@map("${dropped[0]!.table}") (a migration cannot rename a table); otherwise create and drop in two changes`);
  else {
    for (const t of created) {
      const problems = t.columns.filter((c) => c.type.startsWith('unknown') || c.type.startsWith('unsupported') || (c.default.kind === 'unsupported' && c.default.text !== 'autoincrement()'));
      for (const c of problems) refuse(at(t, c), `type ${c.type}, default ${defaultText(c.default)}: not derived`);
      if (t.constraints.length > 0 || t.foreignKeys.length > 0 || t.columns.some((c) => c.unique) || t.indexes.length > 0)
        refuse(at(t), `the new table has constraints, unique fields, indexes or foreign keys (${[...t.constraints, ...t.foreignKeys, ...t.columns.filter((c) => c.unique).map((c) => `${c.field} @unique`), ...t.indexes.map((i) => i.name)].join('; ')}): add them in a migration of their own`);
      if (problems.length > 0) continue;
      operations.push({
        op: 'create_table',
        table: t.table,
        columns: t.columns.map((c) => {
          const serial = c.default.kind === 'unsupported' && c.default.text === 'autoincrement()';
          const type = serial ? ({ integer: 'serial', bigint: 'bigserial', smallint: 'smallserial' } as Record<string, string>)[c.type] ?? c.type : c.type;
          return { name: c.column, type, nullable: c.nullable, primaryKey: c.id, ...(c.default.kind === 'sql' ? { default: c.default.sql } : {}) };
        }),
      });
    }
    for (const t of dropped) {
      operations.push({ op: 'drop_table', table: t.table });
      notes.push(`table ${t.table}: dropped at contract (model ${t.model} is gone)`);
    }
  }

  for (const next of after.tables.values()) {
    const prev = before.tables.get(next.table);
    if (!prev) continue;
    if (prev.constraints.join('\n') !== next.constraints.join('\n'))
      refuse(at(next), `model attributes changed (${prev.constraints.join(' ') || 'none'} → ${next.constraints.join(' ') || 'none'}): @@id, @@unique and @@schema changes are not derived`);
    if (prev.foreignKeys.join('\n') !== next.foreignKeys.join('\n')) refuse(at(next), `relations with foreign keys changed: add a 'foreign_key' constraint by hand`);
    const matched = new Map<Column, Column>();
    const unmatchedPrev = new Set(prev.columns);
    const unmatchedNext = new Set(next.columns);
    const pair = (p: Column, n: Column): void => {
      matched.set(n, p);
      unmatchedPrev.delete(p);
      unmatchedNext.delete(n);
    };
    // The same column (a field renamed in Prisma only, its column kept by @map, is the same column) …
    for (const n of next.columns) {
      const p = prev.columns.find((c) => c.column === n.column && unmatchedPrev.has(c));
      if (p) pair(p, n);
    }
    // … one field whose column name changed (@map) …
    for (const n of [...unmatchedNext]) {
      const p = [...unmatchedPrev].find((c) => c.field === n.field);
      if (p) {
        pair(p, n);
        notes.push(`${next.table}.${p.column} → ${n.column}: a rename (field ${n.field} maps to a new column name)`);
      }
    }
    // … and the renames the change request names.
    for (const hint of renames.filter((h) => h.model === next.model)) {
      const n = [...unmatchedNext].find((c) => c.field === hint.to);
      const p = [...unmatchedPrev].find((c) => c.field === hint.from);
      if (n && p) {
        pair(p, n);
        notes.push(`${next.table}.${p.column} → ${n.column}: a rename (named in renames)`);
      } else if (n) refuse(at(next, n), `renames names '${hint.from}' → '${hint.to}', but model ${next.model} of the base has no field '${hint.from}' that is gone`);
    }
    if (unmatchedPrev.size > 0 && unmatchedNext.size > 0) {
      const gone = [...unmatchedPrev].map((c) => `'${c.field}' (column ${c.column})`).join(', ');
      for (const n of unmatchedNext)
        refuse(
          at(next, n),
          `field '${n.field}' is new while ${gone} went: a rename, or a drop and an add? Keep the column with @map("${[...unmatchedPrev][0]!.column}"), or name the rename in 'migration.prisma.renames' ({ "model": "${next.model}", "from": "${[...unmatchedPrev][0]!.field}", "to": "${n.field}" })`,
        );
      continue;
    }
    for (const [n, p] of matched) {
      const renamed = p.column !== n.column;
      const changes: string[] = [];
      if (p.type !== n.type) changes.push(`type ${p.type} → ${n.type}`);
      if (p.nullable !== n.nullable) changes.push(n.nullable ? 'now optional (DROP NOT NULL)' : 'now required (NOT NULL)');
      if (p.default.kind !== n.default.kind || defaultText(p.default) !== defaultText(n.default)) changes.push(`default ${defaultText(p.default)} → ${defaultText(n.default)}`);
      if (p.unique !== n.unique) changes.push(n.unique ? '@unique added' : '@unique removed');
      if (p.id !== n.id) changes.push(n.id ? '@id added' : '@id removed');
      const typeOnly = changes.length === 1 && p.type !== n.type;
      if (renamed && changes.length > 0) refuse(at(next, n), `renamed ${p.column} → ${n.column} and changed (${changes.join(', ')}): one change per column per migration; rename first, change in the next one`);
      else if (renamed) operations.push({ op: 'rename_column', table: next.table, from: p.column, to: n.column });
      else if (typeOnly && castable(p.type, n.type) && !n.id) {
        const column = quoteIdent(n.column);
        operations.push({ op: 'alter_column_type', table: next.table, column: n.column, type: n.type, up: `CAST(${column} AS ${n.type})`, down: `CAST(${column} AS ${p.type})` });
        notes.push(`${next.table}.${n.column}: ${p.type} → ${n.type} through a new column, cast both ways (a value that does not fit fails its write)`);
      } else if (typeOnly) refuse(at(next, n), `type ${p.type} → ${n.type}: no cast both ways is known to hold; give 'alter_column_type' its 'up' and 'down' expressions`);
      else if (changes.length > 0) refuse(at(next, n), `${changes.join(', ')}: not derived (constraints and defaults of an existing column need a migration written by hand, e.g. 'add_constraint')`);
    }
    for (const p of unmatchedPrev) {
      if (!p.nullable && p.default.kind !== 'sql') refuse(at(prev, p), `field '${p.field}' (column ${p.column}) was removed, but it is required without a database default: the new version's inserts would break the old one's NOT NULL; give 'drop_column' a 'down' expression`);
      else operations.push({ op: 'drop_column', table: next.table, column: p.column });
    }
    for (const n of next.columns.filter((c) => unmatchedNext.has(c))) {
      const where = at(next, n);
      if (n.type.startsWith('unknown') || n.type.startsWith('unsupported')) refuse(where, `${n.type}: not derived`);
      else if (n.id || n.unique) refuse(where, `a new ${n.id ? '@id' : '@unique'} column: add the column, then the constraint in a migration of its own ('add_constraint')`);
      else if (n.default.kind === 'unsupported') refuse(where, `default ${n.default.text}: ${n.default.text === 'autoincrement()' ? 'a new sequence-backed column' : 'this default'} is not derived`);
      else if (!n.nullable && n.default.kind !== 'sql')
        refuse(where, `a required field without a database default${n.default.kind === 'client' ? ` (${n.default.fn} is made by Prisma Client, not the database)` : ''}: existing rows would have no value; add @default(…) or make it optional, or give 'add_column' an 'up' expression`);
      else operations.push({ op: 'add_column', table: next.table, column: { name: n.column, type: n.type, nullable: n.nullable, ...(n.default.kind === 'sql' ? { default: n.default.sql } : {}) } });
    }
    const renamedTo = new Map([...matched].map(([n, p]) => [p.column, n.column]));
    const indexKey = (columns: string[]): string => columns.join('\u0000');
    const prevIndexes = new Set(prev.indexes.map((i) => indexKey(i.columns.map((c) => renamedTo.get(c) ?? c))));
    const nextIndexes = new Set(next.indexes.map((i) => indexKey(i.columns)));
    for (const i of next.indexes) if (!prevIndexes.has(indexKey(i.columns))) operations.push({ op: 'create_index', table: next.table, name: i.name, columns: i.columns });
    for (const i of prev.indexes)
      if (!nextIndexes.has(indexKey(i.columns.map((c) => renamedTo.get(c) ?? c)))) refuse(at(next), `index ${i.name} was removed: DROP INDEX CONCURRENTLY cannot run in a migration step; drop it outside the release`);
  }
  if (refused.length > 0) throw new PrismaMigrationNotDerivedError(file, refused);
  return { operations, notes };
}

/** A migration name from a change request id: lower case, underscores, at most 30 characters. */
export function migrationNameFor(changeId: string): string {
  const name = `prisma_${changeId.toLowerCase().replace(/[^a-z0-9_]+/g, '_')}`.slice(0, 30).replace(/_+$/, '');
  return name;
}

/** The migration for a change to a Prisma schema (undefined when it changes nothing in the database). */
export function derivePrismaMigration(base: string, candidate: string, file: string, derivation: PrismaDerivation & { name: string }): { migration: Migration | undefined; notes: string[] } {
  const { operations, notes } = derivePrismaOperations(base, candidate, file, derivation.renames);
  if (operations.length === 0) return { migration: undefined, notes };
  const migration = parseMigration({ name: derivation.name, schema: derivation.schema, fromVersion: derivation.fromVersion, toVersion: derivation.toVersion, operations });
  return { migration, notes };
}
