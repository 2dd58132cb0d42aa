import { parseArgs } from 'node:util';
import os from 'node:os';
import { ValidationError } from '../core/validation';
import { OPERATOR_SIGNALS, type OperatorSignalName } from '../workflows/messages';
import { CliError, connectClient, EXIT } from './client';
import { exitCodeFor, formatStatus, queryStatus, readChangeFile, sendOperatorSignal, startTrain, waitForTrain, workflowUiLink } from './release';
import { down, up } from './stack';

const USAGE = `maestro — evaluation-gated release trains on Temporal

  maestro up                          start the Temporal dev server (Web UI :8233) and a worker
  maestro down                        stop them
  maestro demo                        release a good and a bad change of examples/ end to end
  maestro release start <change.json> [--wait]
                                      start a train; prints its id and Web UI link
  maestro status <train-id>           stage, weight, last probes, history
  maestro approve|abort|pause|resume|promote <train-id> [--by NAME] [--reason TEXT]
  maestro appeal <train-id> --by NAME --reason TEXT | appeal decide <appeal-id> grant|reject | appeal status <id>
  maestro provenance verify <train-id>     check the signed provenance of a release (signature and digests)
  maestro trace <env>                      what runs in an environment: commit, train, evidence
  maestro evals list|validate|coverage|run …    the eval harness
  maestro graph ingest|blast-radius|dependents|owners|hot-paths …   the code graph
  maestro spec trace|show …                spec ids and the tests that cover them
  maestro refactor apply <codemod.json> --repo DIR [--dry-run]   AST-aware codemods

Exit codes: 0 promoted (or command done), 10 rolled back, 11 denied, 12 aborted, 13 failed,
            2 bad usage or input, 3 Temporal unreachable, 4 train not found.
Environment: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE, MAESTRO_WEB_UI.`;

const print = (line: string) => console.log(line);

type Subcommand = (argv: string[], print: (line: string) => void) => Promise<number>;
/** Loaded on demand: `maestro status` should not pay for the eval harness or the code graph. */
const SUBCOMMANDS: Record<string, () => Promise<Subcommand>> = {
  evals: async () => (await import('./commands/evals')).evalsCommand,
  graph: async () => (await import('./commands/graph')).graphCommand,
  appeal: async () => (await import('./appeal')).appealCommand,
  provenance: async () => (await import('./commands/provenance')).provenanceCommand,
  trace: async () => (await import('./commands/provenance')).traceCommand,
  spec: async () => (await import('./commands/spec')).specCommand,
  refactor: async () => (await import('./commands/refactor')).refactorCommand,
};

export async function main(argv: string[]): Promise<number> {
  // Subcommand families parse their own arguments.
  const family = SUBCOMMANDS[argv[0] ?? ''];
  if (family) return (await family())(argv.slice(1), print);

  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      wait: { type: 'boolean', default: false },
      by: { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    print(USAGE);
    return command || values.help ? 0 : EXIT.usage;
  }
  const operator = values.by ?? process.env.MAESTRO_OPERATOR ?? `${os.userInfo().username}@${os.hostname()}`;

  switch (command) {
    case 'up':
      await up(print);
      return 0;
    case 'down':
      await down(print);
      return 0;
    case 'demo': {
      const { runDemo } = await import('./demo');
      return runDemo(print);
    }
    case 'release': {
      if (rest[0] !== 'start' || !rest[1]) throw new CliError(`usage: maestro release start <change.json> [--wait]`, EXIT.usage);
      const cr = readChangeFile(rest[1]);
      const client = await connectClient();
      const handle = await startTrain(client, cr);
      print(`started release train ${handle.workflowId}`);
      print(`Web UI: ${workflowUiLink(handle.workflowId)}`);
      if (!values.wait) return 0;
      const result = await waitForTrain(client, handle.workflowId, print);
      print(`outcome: ${result.outcome} — ${result.reason}`);
      return exitCodeFor(result);
    }
    case 'status': {
      const id = requireId(command, rest);
      const client = await connectClient();
      print(formatStatus(await queryStatus(client, id)));
      return 0;
    }
    default: {
      if (!(OPERATOR_SIGNALS as readonly string[]).includes(command))
        throw new CliError(`unknown command '${command}'; allowed: up, down, demo, release, status, ${OPERATOR_SIGNALS.join(', ')}`, EXIT.usage);
      const id = requireId(command, rest);
      const client = await connectClient();
      await sendOperatorSignal(client, id, command as OperatorSignalName, { by: operator, ...(values.reason ? { reason: values.reason } : {}) });
      print(`${command} sent to ${id} as ${operator}`);
      return 0;
    }
  }
}

function requireId(command: string, rest: string[]): string {
  if (!rest[0]) throw new CliError(`usage: maestro ${command} <train-id>`, EXIT.usage);
  return rest[0];
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      if (err instanceof CliError) {
        console.error(`maestro: ${err.message}`);
        process.exit(err.exitCode);
      }
      if (err instanceof ValidationError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        console.error(`maestro: ${(err as Error).message}`);
        process.exit(EXIT.usage);
      }
      console.error(`maestro: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
