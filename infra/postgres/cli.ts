/** `tsx infra/postgres/cli.ts start|stop|url`: the project's PostgreSQL (data under .maestro/postgres); start also migrates the maestro database. */
import { migrate } from '../../record/migrate';
import { defaultPostgres, ensurePostgres, serverUrl, stopPostgres } from './server';

async function main(command: string | undefined): Promise<void> {
  if (command === 'start') {
    const pg = await ensurePostgres();
    const { applied } = await migrate(pg.url);
    console.log(`${pg.started ? 'PostgreSQL started' : 'PostgreSQL already running'}: ${pg.url} (data ${defaultPostgres.baseDir}/data); migrations: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  } else if (command === 'stop') {
    console.log((await stopPostgres()) ? 'PostgreSQL stopped' : 'no PostgreSQL of this project is running');
  } else if (command === 'url') {
    console.log(serverUrl(defaultPostgres));
  } else {
    console.error('usage: tsx infra/postgres/cli.ts start|stop|url');
    process.exit(2);
  }
}

main(process.argv[2]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
