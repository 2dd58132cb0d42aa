/** `maestro router calibrate`: fits the LLM router's per-call-type thresholds from the ledger's labels (core/llm-router.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { defineCommand, periodOptions, UsageError } from '../command';
import { openRecord, recordUnreachable } from '../record';

export const command = defineCommand({
  name: 'router',
  usage: `usage: maestro router calibrate [--since 30d|<ISO date>] [--until <same>] [--tolerance 0.01] [--out <routes.json>] [--json]
  fits, per call type, the prompt length up to which the small tier answers, from the ledger's labelled
  fresh answers of prompts both tiers answered: the cheapest threshold whose routed pass rate stays within
  --tolerance of always-large. Prints the calibration report (picks, pass rate per tier with 95% Wilson
  intervals, cost and savings) and writes the routes (default .maestro/llm/routes.json; the gateway reads
  them from MAESTRO_LLM_ROUTES)`,
  options: { since: { type: 'string' }, until: { type: 'string' }, tolerance: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    if (positionals[0] !== 'calibrate' || positionals.length !== 1) throw new UsageError('say what to do: maestro router calibrate');
    const tolerance = values.tolerance === undefined ? 0.01 : Number(values.tolerance);
    if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 1) throw new UsageError(`--tolerance must be a number from 0 to 1 (a pass-rate difference), got '${values.tolerance}'`);
    const period = await periodOptions({ since: values.since ?? '30d', until: values.until });
    const [{ calibrateRouter, formatCalibration }, { STATE }, { llmLedger, databaseUrl, close }] = await Promise.all([import('../../core/llm-router'), import('../../io/paths'), openRecord()]);
    try {
      const rows = await llmLedger.rows({ since: new Date(period.since), until: new Date(period.until) });
      const labelled = rows.flatMap((r) =>
        r.cache === 'miss' && r.passed !== null && (r.tier === 'small' || r.tier === 'large')
          ? [{ callType: r.callType, promptKey: r.promptKey, promptChars: r.promptChars, tier: r.tier as 'small' | 'large', passed: r.passed, costUsd: r.costUsd }]
          : [],
      );
      const report = calibrateRouter(labelled, { tolerance });
      const out = values.out ?? path.join(STATE.root, 'llm', 'routes.json');
      const routes = Object.fromEntries(report.map((c) => [c.callType, { smallUpToChars: c.smallUpToChars }]));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, `${JSON.stringify({ calibratedAt: new Date().toISOString(), tolerance, routes, report }, null, 2)}\n`);
      if (values.json) io.print(JSON.stringify({ out, tolerance, report }, null, 2));
      else io.print(`${formatCalibration(report)}\nroutes written to ${out} (use them with MAESTRO_LLM_ROUTES=${out})`);
      return 0;
    } catch (err) {
      throw await recordUnreachable(err, databaseUrl);
    } finally {
      await close();
    }
  },
});
