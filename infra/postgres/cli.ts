/** `tsx infra/postgres/cli.ts start|stop|url`: the project's PostgreSQL (data under .maestro/postgres); start also migrates the maestro database. */
import { migrate } from '../../record/migrate';
import { runServerCli } from '../detached-server';
import { defaultPostgres, ensurePostgres, serverUrl, stopPostgres } from './server';

runServerCli('infra/postgres/cli.ts', {
  start: async () => {
    const pg = await ensurePostgres();
    const { applied } = await migrate(pg.url);
    return `${pg.started ? 'PostgreSQL started' : 'PostgreSQL already running'}: ${pg.url} (data ${defaultPostgres.baseDir}/data); migrations: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`;
  },
  stop: async () => ((await stopPostgres()) ? 'PostgreSQL stopped' : 'no PostgreSQL of this project is running'),
  url: async () => serverUrl(defaultPostgres),
});
