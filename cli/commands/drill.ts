/** `maestro drill`: fault drills on a stack of their own; exit 0 when the invariant held in every run with no duplicate, 1 otherwise. */
import { defineCommand, UsageError } from '../command';

export const command = defineCommand({
  name: 'drill',
  usage: `usage: maestro drill [--scenario <name>]... [--runs <n>] [--port <temporal port>] [--list] [--json]
  runs release trains on a stack of its own (Temporal, PostgreSQL, a worker process, a greeter service with traffic),
  injects one fault per scenario (kill -9 of the worker, proxy, canary, stable, PostgreSQL or Temporal at a stage,
  outages, aborts, concurrent trains on one service), lets it recover, checks the invariant and prints a table.
  Default: every scenario once (17 scenarios: about 15 minutes on a quiet machine, 23 on a loaded one).`,
  options: {
    scenario: { type: 'string', multiple: true },
    runs: { type: 'string' },
    port: { type: 'string' },
    list: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    const { SCENARIOS, runDrill, formatTable } = await import('../drill');
    if (values.list) {
      for (const s of SCENARIOS) io.print(s.name);
      return 0;
    }
    const names = values.scenario ?? SCENARIOS.map((s) => s.name);
    const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
    if (unknown.length) throw new UsageError(`unknown scenario ${unknown.map((n) => `'${n}'`).join(', ')}; see maestro drill --list`);
    const runs = Number(values.runs ?? 1);
    if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new UsageError(`--runs must be an integer from 1 to 100; got '${values.runs}'`);
    const port = Number(values.port ?? 7450);
    if (!Number.isInteger(port) || port < 1024 || port > 60000) throw new UsageError(`--port must be an integer from 1024 to 60000; got '${values.port}'`);
    const rows = await runDrill({ scenarios: SCENARIOS.filter((s) => names.includes(s.name)), runs, port, print: (line) => io.error(line) });
    if (values.json) io.print(JSON.stringify(rows, null, 2));
    else for (const line of formatTable(rows)) io.print(line);
    return rows.every((r) => r.invariantHeld === r.runs && r.duplicates === 0) ? 0 : 1;
  },
});
