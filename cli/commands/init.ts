/**
 * `maestro init`: the three files a repository needs before its first train, written from what is
 * there (package.json scripts, the entry's source) and validated with the same parsers the train uses.
 * It refuses (exit 2, what is missing and how to fix it) rather than guess, and never overwrites
 * without --force.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compilePolicy, parsePolicyYaml } from '../../core/policy-rules';
import { serviceDescriptorSchema, type ServiceDescriptor } from '../../core/stages';
import { parseScenario } from '../../evals/dsl';
import { defineCommand, UsageError } from '../command';

const USAGE = `usage: maestro init [--dir DIR] [--port N] [--force]
  write maestro.service.json, evals/scenarios/starter.tests-green@v1.yaml and maestro.policy.yaml into DIR
  (default: the current directory), detected from package.json (scripts.test, scripts.start) and the source
  --port N    the port the service listens on, when neither the start script nor the source says
  --force     overwrite files that already exist`;

export const INIT_FILES = {
  service: 'maestro.service.json',
  scenario: 'evals/scenarios/starter.tests-green@v1.yaml',
  policy: 'maestro.policy.yaml',
} as const;

const SCENARIO = `# Starter scenario: a change must apply and keep the test suite green. See evals/dsl.ts for every check.
id: starter.tests-green@v1
title: A change keeps every test green
tags: [starter]
checks:
  - type: patch_applies
    required: true
  - type: tests_pass
    weight: 3
    required: true
`;

const POLICY = `# Starter policy: every built-in rule with its defaults. Use it with MAESTRO_POLICY_FILE=maestro.policy.yaml.
# Name real people in roles before relying on approvals and appeals.
version: 1
roles:
  owner: ['*']
  release-manager: ['*']
  developer: ['*']
appeals:
  appellants: [developer]
  deciders:
    default: [release-manager]
    risk-above-threshold: [owner, release-manager]
    protected-path-touched: [owner]
rules:
  - id: eval-score-below-threshold
  - id: secrets-in-diff
  - id: pii-migration-without-redaction
  - id: protected-path-touched
  - id: environment-protection
  - id: risk-above-threshold
    params: { threshold: 0.8 }
  - id: llm-budget-cap
    params: { maxUsdPerChange: 5 }
`;

/** Refusal: exit 2 with what is missing and how to fix it. */
class Refusal extends Error {}

const SOURCE_FILE = /^[\w./-]+\.(?:[cm]?[jt]s)$/;
const SHELL_SYNTAX = /[|&;<>$`'"()*?]/;

/** The start script's entry file: the first argument that is a source file in the repository. */
function entryOf(start: string, dir: string): string | undefined {
  return start
    .split(/\s+/)
    .find((t) => SOURCE_FILE.test(t) && fs.existsSync(path.join(dir, t)))
    ?.replace(/^\.\//, '');
}

/** The test script as argv when it is a plain node or tsx command, else through npm (which runs it in a shell). */
function testArgv(test: string): string[] {
  const words = test.trim().split(/\s+/);
  if (!SHELL_SYNTAX.test(test) && words[0] === 'node') return ['{node}', ...words.slice(1)];
  if (!SHELL_SYNTAX.test(test) && words[0] === 'tsx') return ['{node}', '{tsx}', ...words.slice(1)];
  return ['npm', 'test', '--silent'];
}

/** The port: PORT=N or --port N in the start script, else a PORT default in the entry's source. */
function portOf(start: string, source: string): { port: number; from: string } | undefined {
  const inScript = /(?:\bPORT=|--port[= ])(\d{2,5})\b/.exec(start);
  if (inScript) return { port: Number(inScript[1]), from: 'the start script' };
  const inSource = /process\.env\.PORT\s*(?:\?\?|\|\|)\s*['"]?(\d{2,5})\b/.exec(source);
  if (inSource) return { port: Number(inSource[1]), from: 'the PORT default in the source' };
  return undefined;
}

export interface InitPlan {
  descriptor: ServiceDescriptor;
  notes: string[];
}

export function planInit(dir: string, portOption?: string): InitPlan {
  const pkgFile = path.join(dir, 'package.json');
  if (!fs.existsSync(pkgFile)) throw new Refusal(`no package.json in ${dir}: maestro init reads scripts.test and scripts.start from it. Run it in the repository's root (or pass --dir).`);
  let scripts: Record<string, unknown>;
  try {
    scripts = (JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { scripts?: Record<string, unknown> }).scripts ?? {};
  } catch (err) {
    throw new Refusal(`${pkgFile} is not valid JSON (${(err as Error).message}); fix it and run maestro init again.`);
  }
  const test = typeof scripts.test === 'string' && !/no test specified/.test(scripts.test) ? scripts.test : undefined;
  if (!test) throw new Refusal(`package.json has no test script: trains gate on the tests. Add "scripts": { "test": "…" } and run maestro init again.`);
  const start = typeof scripts.start === 'string' ? scripts.start : undefined;
  if (!start) throw new Refusal(`package.json has no start script: maestro starts the service from it. Add "scripts": { "start": "node <entry file>" } and run maestro init again.`);
  const entry = entryOf(start, dir);
  if (!entry) throw new Refusal(`cannot tell the entry file from the start script '${start}': it names no source file of the repository. Make it 'node <file>' or 'tsx <file>'.`);
  const source = fs.readFileSync(path.join(dir, entry), 'utf8');
  let port: { port: number; from: string } | undefined;
  if (portOption !== undefined) {
    if (!/^\d{1,5}$/.test(portOption) || Number(portOption) < 1 || Number(portOption) > 65535) throw new UsageError(`--port must be an integer between 1 and 65535, got '${portOption}'`);
    port = { port: Number(portOption), from: '--port' };
  } else port = portOf(start, source);
  if (!port) throw new Refusal(`cannot tell which port the service listens on (no PORT=N or --port N in the start script, no process.env.PORT default in ${entry}). Pass --port N.`);
  const descriptor = serviceDescriptorSchema.parse({
    entry,
    healthPath: /['"`]\/health['"`]/.test(source) && !/['"`]\/healthz['"`]/.test(source) ? '/health' : '/healthz',
    test: testArgv(test),
  });
  const notes = [`entry ${entry} (from the start script), port ${port.port} (from ${port.from})`];
  if (!/process\.env\.PORT\b/.test(source)) notes.push(`warning: ${entry} does not read process.env.PORT; maestro starts each version with PORT set, so make the service listen on it.`);
  return { descriptor, notes };
}

export const command = defineCommand({
  name: 'init',
  usage: USAGE,
  options: { dir: { type: 'string' }, port: { type: 'string' }, force: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(' ')} (use --dir DIR)`);
    const dir = path.resolve(values.dir ?? '.');
    let plan: InitPlan;
    try {
      plan = planInit(dir, values.port);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      io.error(`maestro init: ${err.message}`);
      return 2;
    }
    const files: Record<string, string> = {
      [INIT_FILES.service]: `${JSON.stringify(plan.descriptor, null, 2)}\n`,
      [INIT_FILES.scenario]: SCENARIO,
      [INIT_FILES.policy]: POLICY,
    };
    // What is written is what the train reads: a template that no longer parses fails here, not in a train.
    parseScenario(SCENARIO, INIT_FILES.scenario);
    compilePolicy(parsePolicyYaml(POLICY, INIT_FILES.policy));
    const existing = Object.keys(files).filter((f) => fs.existsSync(path.join(dir, f)));
    if (existing.length && !values.force) {
      io.error(`maestro init: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${dir}; nothing was written. Pass --force to overwrite.`);
      return 2;
    }
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
      io.print(`wrote ${file}`);
    }
    for (const note of plan.notes) io.print(note);
    io.print(`next: commit these files, then 'maestro release start <change.json>' with "repo": "${dir}"`);
    return 0;
  },
});
