/** `maestro cost`: LLM $/train and $/PR from the gateway's ledger, by stage, model, cache outcome and call type (core/llm-cost.ts). */
import { defineCommand, periodOptions } from '../command';
import { openRecord, recordUnreachable } from '../record';

export const command = defineCommand({
  name: 'cost',
  usage: `usage: maestro cost [--since 7d|24h|4w|<ISO date>] [--until <same>] [--json]
  LLM spend over the calls the gateway made in the period (default: the last 7 days): per train, per PR
  (a train that merged), and broken down by stage, model, cache outcome and call type; dollars from the
  dated price table (llm/prices.json) as the ledger recorded them`,
  options: { since: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const period = await periodOptions(values);
    const [{ costReport, formatCostReport }, { llmLedger, databaseUrl, close }] = await Promise.all([import('../../core/llm-cost'), openRecord()]);
    try {
      const rows = await llmLedger.rows({ since: new Date(period.since), until: new Date(period.until) });
      const merged = await llmLedger.mergedTrains([...new Set(rows.map((r) => r.trainId).filter((t): t is string => t !== null))]);
      const report = costReport(rows, merged);
      if (values.json) io.print(JSON.stringify({ since: new Date(period.since).toISOString(), until: new Date(period.until).toISOString(), ...report }, null, 2));
      else io.print(formatCostReport(report));
      return 0;
    } catch (err) {
      throw await recordUnreachable(err, databaseUrl);
    } finally {
      await close();
    }
  },
});
