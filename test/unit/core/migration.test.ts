import fc from 'fast-check';
import { assertMigrationRuns, longLockProblems, migrationProblems, MigrationRefusedError, parseMigration, type SchemaSnapshot } from '../../../core/migration';
import { validationIssues } from '../../helpers/validation';

const people: SchemaSnapshot = {
  tables: [
    {
      name: 'people',
      primaryKey: ['id'],
      columns: [
        { name: 'id', type: 'bigint', nullable: false, default: null },
        { name: 'name', type: 'text', nullable: false, default: null },
        { name: 'email', type: 'text', nullable: true, default: null },
      ],
    },
    { name: 'log', primaryKey: [], columns: [{ name: 'line', type: 'text', nullable: true, default: null }] },
  ],
};
const base = { name: 'm1', fromVersion: 'v1', toVersion: 'v2' };
const problemsOf = (operations: unknown[]) => migrationProblems(parseMigration({ ...base, operations }), people);

describe('parseMigration', () => {
  it('names every bad field with what is allowed', () => {
    const issues = validationIssues(() =>
      parseMigration({ name: 'Bad-Name', fromVersion: 'v1', toVersion: 'v1', operations: [{ op: 'rename_colum', table: 'people' }, { op: 'split_column', table: 'people', column: 'name', into: [], down: 'x' }] }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'name', message: expect.stringMatching(/lower case letters/) },
        { path: 'operations.0.op', message: expect.stringMatching(/allowed: 'create_table'/) },
        { path: 'operations.1.into', message: 'a split makes at least two columns' },
      ]),
    );
    expect(validationIssues(() => parseMigration({ ...base, toVersion: 'v1', operations: [{ op: 'drop_table', table: 'log' }] }))).toEqual([{ path: 'toVersion', message: 'fromVersion and toVersion must differ' }]);
  });

  it('reserves the engine helper prefix and fills defaults', () => {
    expect(validationIssues(() => parseMigration({ ...base, operations: [{ op: 'rename_column', table: 'people', from: 'name', to: '_mc_x' }] }))[0].message).toMatch(/reserved/);
    const m = parseMigration({ ...base, operations: [{ op: 'add_column', table: 'people', column: { name: 'age', type: 'int' } }] });
    expect(m.schema).toBe('public');
    expect(m.operations[0]).toEqual({ op: 'add_column', table: 'people', column: { name: 'age', type: 'int', nullable: true } });
  });
});

describe('migrationProblems', () => {
  it('accepts a valid split', () => {
    expect(
      problemsOf([{ op: 'split_column', table: 'people', column: 'name', into: [{ name: 'first', type: 'text', up: 'name' }, { name: 'last', type: 'text', up: 'name' }], down: 'first' }]),
    ).toEqual([]);
  });

  it('names missing tables and columns with the choices', () => {
    expect(problemsOf([{ op: 'rename_column', table: 'peple', from: 'name', to: 'n' }])).toEqual([
      { path: 'operations.0 (rename_column).table', problem: "table 'peple' does not exist in schema 'public'", fix: 'use one of: people, log' },
    ]);
    expect(problemsOf([{ op: 'drop_column', table: 'people', column: 'nmae' }])[0]).toMatchObject({ problem: "column 'nmae' does not exist in table 'people'", fix: 'use one of: id, name, email' });
  });

  it('refuses two changes to one column, a clash with an existing column, and a table without a single-column key', () => {
    expect(
      problemsOf([
        { op: 'rename_column', table: 'people', from: 'name', to: 'full_name' },
        { op: 'alter_column_type', table: 'people', column: 'name', type: 'varchar(200)', up: 'name', down: 'name' },
      ]).map((p) => p.problem),
    ).toEqual(["column 'name' of 'people' is already changed by operations.0 (rename_column)"]);
    expect(problemsOf([{ op: 'rename_column', table: 'people', from: 'name', to: 'email' }]).map((p) => p.problem)).toEqual(["table 'people' already has a column 'email'"]);
    expect(problemsOf([{ op: 'add_column', table: 'log', column: { name: 'at', type: 'timestamptz' }, up: 'now()' }])[0].problem).toMatch(/no primary key.*walks a single-column primary key/);
  });

  it('refuses a per-row default (table rewrite) with the lock and the safe alternative', () => {
    const [p] = problemsOf([{ op: 'add_column', table: 'people', column: { name: 'token', type: 'uuid', default: 'gen_random_uuid()' } }]);
    expect(p).toEqual({
      path: 'operations.0 (add_column).column.default',
      problem: 'the default calls gen_random_uuid(), which differs per row, so ADD COLUMN rewrites the whole table',
      lock: 'ACCESS EXCLUSIVE for the whole rewrite',
      fix: 'add the column without a default and give \'up: "gen_random_uuid()"\' (filled by the batched backfill)',
    });
    expect(problemsOf([{ op: 'add_column', table: 'people', column: { name: 'token', type: 'uuid', default: "'00000000-0000-0000-0000-000000000000'" } }])).toEqual([]);
  });

  it('refuses a NOT NULL column that existing rows cannot fill', () => {
    expect(problemsOf([{ op: 'add_column', table: 'people', column: { name: 'age', type: 'int', nullable: false } }])[0].fix).toMatch(/give 'default'.*or 'up'/);
    expect(problemsOf([{ op: 'add_column', table: 'people', column: { name: 'age', type: 'int', nullable: false }, up: '0' }])).toEqual([]);
  });

  it('checks index columns against the new version (renamed names)', () => {
    expect(problemsOf([{ op: 'rename_column', table: 'people', from: 'email', to: 'mail' }, { op: 'create_index', table: 'people', name: 'people_mail', columns: ['mail'] }])).toEqual([]);
    expect(problemsOf([{ op: 'rename_column', table: 'people', from: 'email', to: 'mail' }, { op: 'create_index', table: 'people', name: 'people_mail', columns: ['email'] }])[0].problem).toBe(
      "the new version of 'people' has no column 'email'",
    );
  });

  it('throws one MigrationRefusedError listing every problem', () => {
    const m = parseMigration({ ...base, operations: [{ op: 'drop_table', table: 'nope' }, { op: 'raw_sql', up: 'CREATE INDEX i ON people (name)', down: 'DROP INDEX i' }] });
    expect(() => assertMigrationRuns(m, people)).toThrow(MigrationRefusedError);
    expect(() => assertMigrationRuns(m, people)).toThrow(/table 'nope' does not exist[\s\S]*CREATE INDEX without CONCURRENTLY blocks writes \(would hold SHARE for the whole index build\); use a 'create_index' operation/);
  });
});

describe('longLockProblems (raw SQL)', () => {
  it.each([
    ['ALTER TABLE people ALTER COLUMN age TYPE bigint', "'alter_column_type'"],
    ['ALTER TABLE people ALTER COLUMN age SET NOT NULL', "kind 'not_null'"],
    ['ALTER TABLE people ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES t (id)', "'add_constraint'"],
    ['ALTER TABLE people ADD CONSTRAINT c CHECK (a > 0)', "'add_constraint'"],
    ['ALTER TABLE people ADD CONSTRAINT u UNIQUE (email)', "kind 'unique'"],
    ['create unique index u on people (email)', "'create_index'"],
    ['VACUUM FULL people', 'maintenance window'],
    ['ALTER TABLE people RENAME COLUMN a TO b', "'rename_column'"],
    ['ALTER TABLE people DROP COLUMN a', "'drop_column'"],
  ])('refuses %s and points to %s', (sql, alternative) => {
    const problems = longLockProblems(sql, 'operations.0.up');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.fix).join(' ')).toContain(alternative);
    expect(problems.every((p) => p.lock)).toBe(true);
  });

  it.each([
    'ALTER TABLE people ADD CONSTRAINT c CHECK (a > 0) NOT VALID',
    'ALTER TABLE people ADD CONSTRAINT u UNIQUE USING INDEX u',
    'CREATE INDEX CONCURRENTLY i ON people (email)',
    'REINDEX INDEX CONCURRENTLY i',
    "COMMENT ON TABLE people IS 'x'",
  ])('allows %s', (sql) => {
    expect(longLockProblems(sql, 'up')).toEqual([]);
  });

  it('allows any statement without a lock-taking keyword', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z ,()'0-9]{0,40}$/), (tail) => {
        fc.pre(!/\b(type|alter|add|create|vacuum|cluster|lock|reindex|rename|drop|set)\b/i.test(tail));
        expect(longLockProblems(`COMMENT ON TABLE people IS ${tail}`, 'up')).toEqual([]);
      }),
    );
  });
});
