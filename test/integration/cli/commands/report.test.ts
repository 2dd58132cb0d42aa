/** `maestro report --week` over a real record: the markdown names the spenders, savers and KPIs of the seeded trains. */
import { RecordStore } from '../../../../record/store';
import { freshDatabase, type FreshDb } from '../../../helpers/fresh-db';
import { maestroOn } from '../../../helpers/maestro-cli';
import { seedTrain } from '../../../helpers/record-fixture';

let db: FreshDb;
const maestro = (args: string[]) => maestroOn(db.url, args);

beforeAll(async () => {
  db = await freshDatabase('report');
  const record = new RecordStore({ prisma: db.prisma });
  await seedTrain(record, { id: 'rep-a1', author: 'alice', service: 'greeter', outcome: 'promoted', merged: true, evalScore: 0.95, costUsd: 0.4 });
  await seedTrain(record, { id: 'rep-a2', author: 'alice', service: 'greeter', outcome: 'promoted', merged: true, evalScore: 0.93, costUsd: 0.2 });
  await seedTrain(record, { id: 'rep-b1', author: 'bob', service: 'billing', outcome: 'rolled_back', merged: true, evalScore: 0.9, costUsd: 1.5 });
}, 120_000);
afterAll(() => db.drop());

test('the week’s spenders, savers and KPIs as markdown', async () => {
  const out = await maestro(['report', '--week']);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  expect(out.stdout).toContain('3 trains started this week; spend $2.1000');
  expect(out.stdout).toMatch(/## Top spenders by author\n\| author .*\n\|---.*\n\| bob \| \$1\.5000 \| 1 \| 1 \| \$1\.5000 \| new \|\n\| alice \| \$0\.6000 \| 2 \| 2 \| \$0\.3000 \| new \|/);
  expect(out.stdout).toMatch(/## Savers: least spend per merged PR\n\| author .*\n\|---.*\n\| alice /);
  expect(out.stdout).toMatch(/\| change failure rate \| 33\.3% \| n\/a \| · \| < 15% \| missed \| 3 \|/);
});

test('bad options are refused, saying what to give', async () => {
  expect(await maestro(['report'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--week') });
  expect(await maestro(['report', '--week', '--top', 'many'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--top must be a whole number') });
});
