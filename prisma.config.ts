/**
 * Prisma CLI configuration for working offline: the JS/WASM schema engine over node-postgres instead
 * of the native schema engine (which would be downloaded). Used for `prisma migrate diff` (authoring
 * migrations, and test/integration/record/migrate.test.ts); the project applies migrations itself
 * (record/migrate.ts). The database comes from DATABASE_URL.
 *
 * Works around two problems of @prisma/adapter-pg 6.19.3 in the schema engine:
 * - catalog columns of type `name` (OID 19) and `"char"` (OID 18) "could not be deserialized": they
 *   are reported to the engine as text (in this CLI process only);
 * - the shadow database was dropped while its pool still had a connection: ours ends the pool first
 *   and drops with FORCE.
 */
import crypto from 'node:crypto';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client, type PoolConfig } from 'pg';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PgResult = require('pg/lib/result') as { prototype: { addFields(fields: { dataTypeID: number }[]): void } };
const addFields = PgResult.prototype.addFields;
PgResult.prototype.addFields = function (fields) {
  for (const f of fields) if (f.dataTypeID === 18 || f.dataTypeID === 19) f.dataTypeID = 25;
  return addFields.call(this, fields);
};

function poolConfig(): PoolConfig {
  const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:54329/maestro');
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: url.pathname.slice(1) || 'postgres',
    allowExitOnIdle: true,
  };
}

function adapterFactory() {
  const config = poolConfig();
  const main = new PrismaPg(config);
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    async connectToShadowDb() {
      const name = `prisma_shadow_${crypto.randomBytes(6).toString('hex')}`;
      const admin = async (sql: string) => {
        const c = new Client({ ...config, database: config.database });
        await c.connect();
        try {
          await c.query(sql);
        } finally {
          await c.end();
        }
      };
      await admin(`CREATE DATABASE "${name}"`);
      const adapter = await new PrismaPg({ ...config, database: name }).connect();
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      };
      return adapter;
    },
  };
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: async () => adapterFactory(),
});
