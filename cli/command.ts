/**
 * The shape every `maestro <command>` has, and the one place its arguments are parsed (node:util
 * parseArgs, strict, positionals allowed, `--help`/`-h` added), so that every command rejects unknown
 * options and answers `--help` the same way.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ENVIRONMENTS, type Environment } from '../core/change-request';

export type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>;

export interface Args<O extends Options> {
  values: Parsed<O>['values'];
  positionals: string[];
}

export interface Io {
  /** Results, to stdout. */
  print(line: string): void;
  /** Usage errors, to stderr. */
  error(line: string): void;
}

export interface Command<O extends Options = Options> {
  name: string;
  /** Printed by `maestro <name> --help` and after a usage error; its first line starts with `usage: maestro <name>`. */
  usage: string;
  options: O;
  /** Resolves to the exit code; throws UsageError for bad input (exit 2 with the usage). */
  run(args: Args<O>, io: Io): Promise<number>;
}

/** Only for type inference of `options` into `run`. */
export const defineCommand = <O extends Options>(command: Command<O>): Command<O> => command;

/** Bad arguments: exit 2, the message, then the command's usage. */
export class UsageError extends Error {}

/** `--since`/`--until` as a period (core/kpi.ts parsePeriod); bad values are usage errors. */
export async function periodOptions(values: { since?: string; until?: string }): Promise<{ since: number; until: number }> {
  const [{ parsePeriod }, { InvalidInputError }] = await Promise.all([import('../core/kpi'), import('../core/errors')]);
  try {
    return parsePeriod({ since: values.since, until: values.until }, Date.now());
  } catch (err) {
    if (err instanceof InvalidInputError) throw new UsageError(err.message);
    throw err;
  }
}

/** A `--<name>` TCP port option; `fallback` when absent. */
export function portOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new UsageError(`--${name} must be a TCP port (0-65535), got '${raw}'`);
  return Number(raw);
}

/** An `--env` option: one of the environments, or absent. */
export function environmentOption(raw: string | undefined): Environment | undefined {
  if (raw !== undefined && !ENVIRONMENTS.includes(raw as Environment)) throw new UsageError(`--env must be one of ${ENVIRONMENTS.join(', ')}; got '${raw}'`);
  return raw as Environment | undefined;
}

export async function runCommand<O extends Options>(command: Command<O>, argv: readonly string[], io: Io): Promise<number> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    if (!(err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw err;
    return usageError(command.name, command.usage, (err as Error).message, io);
  }
  if (parsed.values.help) {
    io.print(command.usage);
    return 0;
  }
  const { help: _help, ...values } = parsed.values;
  try {
    return await command.run({ values, positionals: parsed.positionals } as Args<O>, io);
  } catch (err) {
    if (err instanceof UsageError) return usageError(command.name, command.usage, err.message, io);
    throw err;
  }
}

function usageError(name: string, usage: string, message: string, io: Io): number {
  io.error(`maestro ${name}: ${message}`);
  io.error(usage);
  return 2;
}
