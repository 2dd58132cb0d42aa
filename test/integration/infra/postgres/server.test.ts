import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { defaultPostgres, ensurePostgres, PostgresError, stopPostgres } from '../../../../infra/postgres/server';

describe('ensurePostgres', () => {
  it('reuses the running project server', async () => {
    const first = await ensurePostgres();
    const second = await ensurePostgres();
    expect(second).toMatchObject({ url: first.url, started: false });
    expect(second.url).toBe(`postgresql://postgres@127.0.0.1:${defaultPostgres.port}/maestro`);
  });

  it('initialises, starts and stops a server of its own in an empty directory', async () => {
    const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-pg-'));
    const opts = { ...defaultPostgres, baseDir, port: 54399, database: 'cold' };
    const pg = await ensurePostgres(opts);
    try {
      expect(pg.started).toBe(true);
      expect(fs.existsSync(path.join(baseDir, 'data/PG_VERSION'))).toBe(true);
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      const { rows } = await c.query('select current_database() as db, inet_server_addr()::text as addr');
      await c.end();
      expect(rows[0]).toEqual({ db: 'cold', addr: '127.0.0.1/32' });
    } finally {
      await pg.stop();
    }
    expect(await stopPostgres(opts)).toBe(false);
    fs.rmSync(baseDir, { recursive: true, force: true });
  });

  it('says what to run when the server binaries are missing', async () => {
    const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-pg-'));
    const err = await ensurePostgres({ ...defaultPostgres, baseDir, port: 54398, binDir: '/nonexistent/bin' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresError);
    expect((err as Error).message).toMatch(/\/nonexistent\/bin\/initdb not found: run 'bash scripts\/setup-postgres.sh'/);
  });

  it('says so when MAESTRO_DATABASE_URL points at nothing, without echoing the password', async () => {
    const saved = process.env.MAESTRO_DATABASE_URL;
    process.env.MAESTRO_DATABASE_URL = 'postgresql://u:hunter2@127.0.0.1:1/x';
    try {
      await expect(ensurePostgres()).rejects.toThrow('MAESTRO_DATABASE_URL=postgresql://u:***@127.0.0.1:1/x does not accept connections');
    } finally {
      if (saved === undefined) delete process.env.MAESTRO_DATABASE_URL;
      else process.env.MAESTRO_DATABASE_URL = saved;
    }
  });
});
