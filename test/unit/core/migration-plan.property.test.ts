import fc from 'fast-check';
import { migrationProblems, newVersionColumnNames, parseMigration, type Migration, type MigrationInput, type SchemaSnapshot } from '../../../core/migration';
import { planMigration } from '../../../core/migration-plan';
import { qualified, quoteIdent } from '../../../core/sql-text';

/** Names PostgreSQL accepts only quoted: spaces, quotes, capitals, dots. */
const oddName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9 ".]{0,10}$/).filter((n) => !n.startsWith('_mc_'));

/** A table with a bigint key and 3–6 other columns, and one operation on each of some columns. */
const scenario = fc
  .record({
    table: oddName,
    columns: fc.uniqueArray(oddName, { minLength: 4, maxLength: 6 }),
    kinds: fc.array(fc.constantFrom('rename', 'type', 'split', 'not_null', 'unique', 'check', 'drop', 'keep'), { minLength: 4, maxLength: 6 }),
    added: fc.option(oddName, { nil: undefined }),
  })
  .filter((s) => !s.columns.includes('id') && (s.added === undefined || !s.columns.includes(s.added)))
  .map(({ table, columns, kinds, added }): { snapshot: SchemaSnapshot; migration: Migration } => {
    const snapshot: SchemaSnapshot = {
      tables: [
        {
          name: table,
          primaryKey: ['id'],
          columns: [{ name: 'id', type: 'bigint', nullable: false, default: null }, ...columns.map((name) => ({ name, type: 'text', nullable: true, default: null }))],
        },
      ],
    };
    const ops = columns.flatMap((column, i): MigrationInput['operations'] => {
      const q = quoteIdent(column);
      switch (kinds[i % kinds.length]) {
        case 'rename':
          return [{ op: 'rename_column', table, from: column, to: `${column}_r${i}` }];
        case 'type':
          return [{ op: 'alter_column_type', table, column, type: 'varchar(50)', up: `${q}::varchar(50)`, down: q }];
        case 'split':
          return [{ op: 'split_column', table, column, into: [{ name: `${column}_a${i}`, type: 'text', up: q }, { name: `${column}_b${i}`, type: 'text', up: q }], down: quoteIdent(`${column}_a${i}`) }];
        case 'not_null':
          return [{ op: 'add_constraint', table, column, constraint: { kind: 'not_null' }, up: `coalesce(${q}, '')` }];
        case 'unique':
          return [{ op: 'add_constraint', table, column, constraint: { kind: 'unique', name: `u${i}` } }];
        case 'check':
          return [{ op: 'add_constraint', table, column, constraint: { kind: 'check', name: `c${i}`, expression: `length(${q}) < 100` } }];
        case 'drop':
          return [{ op: 'drop_column', table, column, down: "''" }];
        default:
          return [];
      }
    });
    if (added) ops.push({ op: 'add_column', table, column: { name: added, type: 'int', nullable: false, default: '0' } } );
    if (ops.length === 0) ops.push({ op: 'create_index', table, name: 'by_id', columns: ['id'] } );
    return { snapshot, migration: parseMigration({ name: 'm', fromVersion: 'v1', toVersion: 'v2', operations: ops }) };
  })
  .filter(({ migration, snapshot }) => migrationProblems(migration, snapshot).length === 0);

const statements = (steps: { sql: string }[]): string => steps.map((s) => s.sql).join(';\n');
const addedColumns = (sql: string): string[] => [...sql.matchAll(/ADD COLUMN ("(?:[^"]|"")+")/g)].map((m) => m[1]);

describe('planMigration', () => {
  it('rollback drops every column expand adds, and contract never drops a column the new version shows', () => {
    fc.assert(
      fc.property(scenario, ({ snapshot, migration }) => {
        const plan = planMigration(migration, snapshot);
        const rollback = statements(plan.rollback);
        for (const col of addedColumns(statements(plan.expand))) expect(rollback).toContain(`DROP COLUMN IF EXISTS ${col}`);
        const contract = statements(plan.contract);
        const dropped = [...contract.matchAll(/DROP COLUMN ("(?:[^"]|"")+")/g)].map((m) => m[1]);
        const renamedTo = [...contract.matchAll(/RENAME COLUMN (?:"(?:[^"]|"")+") TO ("(?:[^"]|"")+")/g)].map((m) => m[1]);
        const kept = newVersionColumnNames(migration, snapshot.tables[0]).map(quoteIdent);
        // After contract the table has exactly the new version's columns.
        const physicalAfter = [...snapshot.tables[0].columns.map((c) => quoteIdent(c.name)), ...addedColumns(statements(plan.expand))]
          .filter((c) => !dropped.includes(c))
          .map((c) => {
            const rename = [...contract.matchAll(/RENAME COLUMN ("(?:[^"]|"")+") TO ("(?:[^"]|"")+")/g)].find((m) => m[1] === c);
            return rename ? rename[2] : c;
          });
        expect(new Set(physicalAfter)).toEqual(new Set(kept));
        expect(renamedTo.every((c) => kept.includes(c))).toBe(true);
      }),
    );
  });

  it('marks exactly the CONCURRENTLY statements as outside a transaction, and names the table only quoted', () => {
    fc.assert(
      fc.property(scenario, ({ snapshot, migration }) => {
        const plan = planMigration(migration, snapshot);
        for (const step of [...plan.expand, ...plan.validate, ...plan.contract, ...plan.rollback]) {
          expect(step.transactional).toBe(!/CONCURRENTLY/.test(step.sql));
        }
        const table = qualified('public', snapshot.tables[0].name);
        for (const step of [...plan.validate, ...plan.contract.slice(1)]) expect(step.sql).toContain(table);
      }),
    );
  });

  it("shows the new version's columns in its views, and the old version's unchanged", () => {
    fc.assert(
      fc.property(scenario, ({ snapshot, migration }) => {
        const plan = planMigration(migration, snapshot);
        const t = snapshot.tables[0];
        const viewOf = (sql: string): string[] => {
          const select = sql.slice(sql.indexOf('AS SELECT ') + 'AS SELECT '.length, sql.lastIndexOf(' FROM '));
          return [...select.matchAll(/("(?:[^"]|"")+")(?: AS ("(?:[^"]|"")+"))?(?:, |$)/g)].map((m) => m[2] ?? m[1]);
        };
        const newViews = plan.expand[plan.expand.length - 1].sql.split(';\n').filter((s) => s.startsWith('CREATE OR REPLACE VIEW'));
        expect(viewOf(newViews[0])).toEqual(expect.arrayContaining(newVersionColumnNames(migration, t).map(quoteIdent)));
        expect(viewOf(newViews[0])).toHaveLength(newVersionColumnNames(migration, t).length);
        const oldView = plan.expand[0].sql.split(';\n').find((s) => s.startsWith('CREATE OR REPLACE VIEW')) ?? '';
        expect(viewOf(oldView)).toEqual(t.columns.map((c) => quoteIdent(c.name)));
        expect(planMigration(migration, snapshot)).toEqual(plan);
      }),
    );
  });

  it('plans one backfill per table that needs one, walking its primary key', () => {
    const snapshot: SchemaSnapshot = { tables: [{ name: 'people', primaryKey: ['id'], columns: [{ name: 'id', type: 'bigint', nullable: false, default: null }, { name: 'name', type: 'text', nullable: false, default: null }] }] };
    const rename = planMigration(parseMigration({ name: 'm', fromVersion: 'v1', toVersion: 'v2', operations: [{ op: 'rename_column', table: 'people', from: 'name', to: 'full_name' }] }), snapshot);
    expect(rename.backfill).toEqual([]);
    expect(rename.expand.map((s) => s.description)).toEqual(['views of the old version (public_v1)', 'views of the new version (public_v2)']);
    expect(rename.contract.map((s) => s.sql)).toEqual(['DROP SCHEMA IF EXISTS "public_v1" CASCADE', expect.stringContaining('RENAME COLUMN "name" TO "full_name"')]);
    const type = planMigration(parseMigration({ name: 'm', fromVersion: 'v1', toVersion: 'v2', operations: [{ op: 'alter_column_type', table: 'people', column: 'name', type: 'varchar(80)', up: 'name', down: 'name' }] }), snapshot);
    expect(type.backfill).toHaveLength(1);
    expect(type.backfill[0]).toMatchObject({ table: 'people', primaryKey: 'id', primaryKeyType: 'bigint' });
    expect(type.backfill[0].nextBatchSql).toContain('WHERE "id" > $2::bigint ORDER BY "id" LIMIT $1');
    expect(type.validate.map((s) => s.sql)).toEqual(['ALTER TABLE "public"."people" VALIDATE CONSTRAINT "_mc_nn_name"']);
  });
});
