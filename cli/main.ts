/** `maestro`: the one entry. Commands are loaded on demand, so `maestro graph` never loads Prisma or Temporal. */
import type { OperatorSignalName } from '../workflows/messages';
import type { Command } from './command';
import { CliError, EXIT } from './errors';

type Loader = () => Promise<Command>;
const signal = (name: OperatorSignalName): Loader => async () => (await import('./commands/signal')).signalCommands[name];

export const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  init: { summary: 'write maestro.service.json, a starter eval scenario and policy into a repository', load: async () => (await import('./commands/init')).command },
  up: { summary: 'start PostgreSQL, the Temporal dev server (Web UI :8233) and a worker', load: async () => (await import('./commands/up')).command },
  down: { summary: 'stop what `up` started and the deployed services', load: async () => (await import('./commands/down')).command },
  codec: { summary: 'the codec endpoint for the Web UI (serve), and payload key rotation (rotate)', load: async () => (await import('./commands/codec')).command },
  demo: { summary: 'release a good, a bad and a denied change of examples/ end to end', load: async () => (await import('./commands/demo')).command },
  release: { summary: 'start a release train from a change file (--wait: follow it to the end)', load: async () => (await import('./commands/release')).command },
  status: { summary: "a train's stage, weight, last probes and history", load: async () => (await import('./commands/status')).command },
  approve: { summary: 'approve a train waiting for approval', load: signal('approve') },
  abort: { summary: 'abort a train (rolls back a running rollout)', load: signal('abort') },
  pause: { summary: 'pause a rollout', load: signal('pause') },
  resume: { summary: 'resume a paused rollout', load: signal('resume') },
  promote: { summary: 'promote a rollout to 100% now', load: signal('promote') },
  gates: { summary: "a change request's rollout plan and health gates in words (metric templates, risk bands, tripwire)", load: async () => (await import('./commands/gates')).command },
  plan: { summary: "the rollout a train will run (change request, risk band or override); --set overrides it before the rollout", load: async () => (await import('./commands/plan')).command },
  reads: { summary: "switch the reads of a train's database migration to the old shape (or back), at once", load: async () => (await import('./commands/reads')).command },
  appeal: { summary: 'appeal a denied train; decide or show an appeal', load: async () => (await import('./commands/appeal')).command },
  provenance: { summary: 'verify the signed provenance of a release (signature and digests)', load: async () => (await import('./commands/provenance')).command },
  drill: { summary: 'fault drills on a stack of their own, with the invariant checked after each', load: async () => (await import('./commands/drill')).command },
  verify: { summary: 'do what runs, the base branch, GitOps and the record agree for a service', load: async () => (await import('./commands/verify')).command },
  explain: { summary: 'why a train ended as it did: verdicts, denials, operator actions, in words', load: async () => (await import('./commands/explain')).command },
  analyze: { summary: 'the outlier analyzer: eval degradations and failed rollouts, one issue each with a repro bundle', load: async () => (await import('./commands/analyze')).command },
  serve: { summary: 'the dashboard: trains (live), why each ended, Eval Score, KPIs with trends, spend', load: async () => (await import('./commands/serve')).command },
  report: { summary: 'the weekly savers/spenders report (--week): spend by author and service, KPIs against last week', load: async () => (await import('./commands/report')).command },
  cost: { summary: 'LLM $/train and $/PR from the gateway ledger, by stage, model, cache outcome', load: async () => (await import('./commands/cost')).command },
  router: { summary: 'router calibrate: fit the LLM router\'s tier thresholds from the ledger and write the report', load: async () => (await import('./commands/router')).command },
  kpi: { summary: 'the KPIs over a period (merge → prod, MTTR, Eval Score, overrides, $/PR …)', load: async () => (await import('./commands/kpi')).command },
  trace: { summary: 'what runs in an environment: commit, train, evidence', load: async () => (await import('./commands/trace')).command },
  evals: { summary: 'the eval harness: list, validate, coverage, run', load: async () => (await import('./commands/evals')).command },
  graph: { summary: 'the code graph: ingest, blast-radius, dependents, owners, hot-paths', load: async () => (await import('./commands/graph')).command },
  spec: { summary: 'spec ids and the tests that cover them: show, trace', load: async () => (await import('./commands/spec')).command },
  refactor: { summary: 'AST-aware codemods: apply', load: async () => (await import('./commands/refactor')).command },
};

export const USAGE = `usage: maestro <command> [options]    (maestro <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(12)}${summary}`)
  .join('\n')}

Exit codes: 0 promoted (or command done), 10 rolled back, 11 denied, 12 aborted, 13 failed,
            2 bad usage or input, 3 Temporal unreachable, 4 train not found.
Environment: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE, MAESTRO_WEB_UI,
             MAESTRO_OTLP_ENDPOINT (trace what the CLI starts), MAESTRO_TRACE_UI.`;

const io = { print: (line: string) => console.log(line), error: (line: string) => console.error(line) };

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.error : io.print)(USAGE);
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    io.error(`maestro: unknown command '${name}'; allowed: ${Object.keys(COMMANDS).join(', ')} (maestro --help)`);
    return 2;
  }
  const { runCommand } = await import('./command');
  try {
    return await runCommand(await entry.load(), rest, io);
  } finally {
    // The spans a traced command made (cli/client.ts) leave before the process exits.
    if (process.env.MAESTRO_OTLP_ENDPOINT) await (await import('../io/tracing')).activeTracing()?.shutdown();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    async (err: unknown) => {
      // Loaded only on failure: zod stays off the start-up path.
      const { ValidationError } = await import('../core/validation');
      if (err instanceof CliError) {
        console.error(`maestro: ${err.message}`);
        process.exit(err.exitCode);
      }
      if (err instanceof ValidationError) {
        console.error(`maestro: ${err.message}`);
        process.exit(EXIT.usage);
      }
      console.error(`maestro: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
