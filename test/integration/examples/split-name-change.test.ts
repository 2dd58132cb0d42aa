/**
 * The demo's schema change end to end: the greeter (v1, `name`) serves its own `people` table under
 * reads and writes through the proxy while the train releases split-name-change (v2, first_name +
 * last_name): migration expanded and backfilled before the merge, v1 and the v2 canary writing at once,
 * contracted after promotion. Every acknowledged write must read back equal through whichever version
 * answers, during the train and after it.
 */
import { Pool } from 'pg';
import type { ChangeRequest } from '../../../core/change-request';
import { TrainFixture } from '../../../examples/train-fixture';
import { trainStatusQuery } from '../../../workflows/messages';
import type { releaseTrain } from '../../../workflows/release-train';
import { emptyDatabase } from '../../helpers/fresh-db';
import { startTestWorker, type TestWorker, realActivities, tempDir } from '../../helpers/temporal';

const TASK_QUEUE = 'test-split-name-change';
const RUN = Date.now().toString(36);
const SEEDED = 300;
let temporal: TestWorker;
const stateDir = tempDir('split-name');
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  temporal = await startTestWorker(TASK_QUEUE, realActivities(stateDir));
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  await temporal?.stop();
});

/** Writers add people through the proxy; readers read back acknowledged ones; every failure is kept. */
class PeopleLoad {
  readonly acknowledged = new Map<string, string>();
  readonly failures: string[] = [];
  requests = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private n = 0;

  constructor(private readonly url: string) {}

  async add(name: string): Promise<void> {
    this.requests++;
    const response = await fetch(`${this.url}/people?name=${encodeURIComponent(name)}`, { method: 'POST' }).catch((e: Error) => e);
    if (response instanceof Error || response.status !== 201) return void this.failures.push(`POST ${name}: ${response instanceof Error ? response.message : `${response.status} ${await response.text()}`}`);
    const person = (await response.json()) as { id: string; name: string };
    if (person.name !== name) this.failures.push(`POST ${name}: answered ${JSON.stringify(person)}`);
    this.acknowledged.set(person.id, name);
  }

  async check(id: string): Promise<void> {
    this.requests++;
    const response = await fetch(`${this.url}/people/${id}`).catch((e: Error) => e);
    if (response instanceof Error || response.status !== 200) return void this.failures.push(`GET ${id}: ${response instanceof Error ? response.message : `${response.status} ${await response.text()}`}`);
    const person = (await response.json()) as { name: string };
    if (person.name !== this.acknowledged.get(id)) this.failures.push(`GET ${id}: ${JSON.stringify(person)}, acknowledged '${this.acknowledged.get(id)}'`);
  }

  start(loops = 2): void {
    this.running = true;
    this.loops = Array.from({ length: loops }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const i = this.n++;
      // Two-word and one-word names: the split's edge (an empty last name) crosses versions too.
      await this.add(i % 5 === 0 ? `Ada${i}` : `Ada${i} Love${i}`);
      const ids = [...this.acknowledged.keys()];
      await this.check(ids[(i * 7919) % ids.length]!);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

test('split-name-change promotes and contracts while the greeter keeps reading and writing its people', async () => {
  const db = await emptyDatabase('split_name');
  const fixture = new TrainFixture(`greeter-split-${RUN}`, stateDir);
  await fixture.start(100, { databaseUrl: db.url });
  const pool = new Pool({ connectionString: db.url, max: 1 });
  pool.on('error', () => undefined);
  const load = new PeopleLoad(fixture.proxyUrl);
  cleanups.push(async () => {
    await load.stop();
    await fixture.stop();
    await pool.end();
    await db.drop();
  });
  for (let i = 0; i < SEEDED; i++) await load.add(`Grace${i} Hopper${i}`);
  expect(load.failures).toEqual([]);
  load.start();

  const cr = fixture.change('split-name-change', `split-name-${RUN}`);
  const handle = await temporal.client.workflow.start<typeof releaseTrain>('releaseTrain', {
    taskQueue: TASK_QUEUE,
    workflowId: `train-split-name-${RUN}`,
    args: [{ ...cr, migration: { ...cr.migration, databaseUrl: db.url } as ChangeRequest['migration'] }],
  });
  const result = await handle.result();
  await load.stop();
  expect(result).toMatchObject({ outcome: 'promoted' });
  const history = (await handle.query(trainStatusQuery)).history.filter((h) => h.kind === 'migration').map((h) => h.detail);
  expect(history).toEqual([expect.stringMatching(/^split_person_name ready: \d+ rows backfilled, \d+ lock waits$/), 'split_person_name completed: promoted in dev']);
  expect(Number(/ready: (\d+)/.exec(history[0]!)![1])).toBeGreaterThanOrEqual(SEEDED);

  // Reads and writes went on through both versions with no failed request and no lost or changed row.
  expect(load.failures).toEqual([]);
  expect(load.acknowledged.size).toBeGreaterThan(SEEDED);
  const columns = (await pool.query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'people' ORDER BY ordinal_position`)).rows.map((r) => r.c);
  expect(columns).toEqual(['id', 'email', 'first_name', 'last_name']);
  // After the contract, through v2 (now stable) and in the table itself: every acknowledged person, split.
  for (const id of load.acknowledged.keys()) await load.check(id);
  expect(load.failures).toEqual([]);
  const rows = (await pool.query<{ id: string; first_name: string; last_name: string }>('SELECT id::text AS id, first_name, last_name FROM people')).rows;
  const stored = new Map(rows.map((r) => [r.id, [r.first_name, r.last_name].filter(Boolean).join(' ')]));
  expect([...load.acknowledged].filter(([id, name]) => stored.get(id) !== name)).toEqual([]);
  console.log(`split-name-change: ${load.requests} requests through the proxy during and after the train, ${load.acknowledged.size} people written, ${load.failures.length} failed; ${history[0]}`);
}, 420_000);
