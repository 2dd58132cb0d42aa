/** `maestro kpi`: the seed's KPIs over a period, computed from the record (core/kpi.ts). */
import { defineCommand, periodOptions } from '../command';
import { openRecord, recordUnreachable } from '../record';

export const command = defineCommand({
  name: 'kpi',
  usage: `usage: maestro kpi [--since 7d|24h|4w|<ISO date>] [--until <same>] [--json]
  merge → production, rollback MTTR, Eval Score, change failure rate, autonomous changes, reviewer overrides,
  policy violations, $ per PR and mutation score over the trains that started in the period (default: the last 7 days);
  each with its definition, target and the number of trains it is computed over`,
  options: { since: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const period = await periodOptions(values);
    const [{ computeKpis, formatKpis }, { record, databaseUrl, close }] = await Promise.all([import('../../core/kpi'), openRecord()]);
    try {
      const kpis = computeKpis(await record.trainFacts({ since: new Date(period.since), until: new Date(period.until) }), period);
      if (values.json) io.print(JSON.stringify({ since: new Date(period.since).toISOString(), until: new Date(period.until).toISOString(), kpis }, null, 2));
      else {
        io.print(`KPIs for trains started ${new Date(period.since).toISOString()} … ${new Date(period.until).toISOString()}`);
        io.print(formatKpis(kpis));
        io.print('(✓ meets its target, ✗ misses it; definitions: maestro kpi --json, or docs/kpis.md)');
      }
      return 0;
    } catch (err) {
      throw await recordUnreachable(err, databaseUrl);
    } finally {
      await close();
    }
  },
});
