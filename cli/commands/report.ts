/** `maestro report --week`: the weekly savers/spenders report with the KPIs against the week before (core/weekly-report.ts). */
import fs from 'node:fs';
import { defineCommand, UsageError } from '../command';
import { openRecord, recordUnreachable } from '../record';

export const command = defineCommand({
  name: 'report',
  usage: `usage: maestro report --week [--until <ISO date>] [--top N] [--out <file.md>]
  the week's top spenders by author and by service (spend, trains, merged, $ per merged PR against last
  week), the savers (least per merged PR), and every KPI beside last week's with its trend; markdown.
  --until  the week ends here (exclusive; default now)   --top  rows per table (default 5)
  --out    write the markdown to a file instead of printing it`,
  options: { week: { type: 'boolean' }, until: { type: 'string' }, top: { type: 'string' }, out: { type: 'string' } },
  async run({ values, positionals }, io) {
    if (!values.week) throw new UsageError('say which report: --week (the only one so far)');
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals.join(' ')}`);
    const until = values.until === undefined ? Date.now() : Date.parse(values.until);
    if (Number.isNaN(until)) throw new UsageError(`--until '${values.until}' is not an ISO date like 2026-11-30`);
    const top = values.top === undefined ? 5 : Number(values.top);
    if (!Number.isInteger(top) || top < 1 || top > 100) throw new UsageError(`--top must be a whole number from 1 to 100, got '${values.top}'`);
    const [{ weeklyReport, formatWeeklyReport, WEEK_MS }, { record, databaseUrl, close }] = await Promise.all([import('../../core/weekly-report'), openRecord()]);
    try {
      // Two weeks: this one and the one it is compared with.
      const period = { since: new Date(until - 2 * WEEK_MS), until: new Date(until) };
      const [trains, facts] = await Promise.all([record.listTrains({ ...period, limit: 100_000 }), record.trainFacts(period)]);
      const markdown = formatWeeklyReport(weeklyReport(trains, facts, until, top));
      if (values.out) {
        fs.writeFileSync(values.out, markdown);
        io.print(`weekly report written to ${values.out}`);
      } else io.print(markdown);
      return 0;
    } catch (err) {
      throw await recordUnreachable(err, databaseUrl);
    } finally {
      await close();
    }
  },
});
