/**
 * The scenario registry: discovers `*.yaml` under a directory (recursively), keeps every version of every
 * scenario, resolves `name` to its latest version and `name@vN` to that one, links scenarios to agent
 * prompts through `prompt:<name>` tags, and splits the hold-out set from the tuning set.
 *
 * The agent prompts themselves are listed in `prompts.yaml` at the registry root:
 *   prompts:
 *     - name: implement
 *       description: turn an intent into a patch with tests
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { formatIssue, parseScenario, ScenarioError, type Scenario, type ScenarioIssue } from './dsl';

export const DEFAULT_SCENARIOS_DIR = path.join(__dirname, 'scenarios');
export const PROMPTS_FILE = 'prompts.yaml';
export const MIN_SCENARIOS_PER_PROMPT = 3;
export const PROMPT_TAG = 'prompt:';

const promptsSchema = z
  .object({ prompts: z.array(z.object({ name: z.string().regex(/^[a-z][a-z0-9_.-]*$/), description: z.string().default('') }).strict()).min(1) })
  .strict();
export type AgentPrompt = z.output<typeof promptsSchema>['prompts'][number];

export interface CoverageRow {
  prompt: string;
  /** Latest versions of tuning (non-hold-out) scenarios tagged with the prompt. */
  scenarios: string[];
  holdout: string[];
  ok: boolean;
}
export interface CoverageReport {
  ok: boolean;
  minimum: number;
  rows: CoverageRow[];
  /** prompt: tags naming no known prompt. */
  unknownPromptTags: { scenario: string; tag: string }[];
  /** Latest scenarios linked to no prompt at all. */
  untagged: string[];
}

export class Registry {
  private readonly byName = new Map<string, Scenario[]>();

  constructor(
    scenarios: Scenario[],
    readonly prompts: AgentPrompt[] = [],
    readonly root?: string,
  ) {
    const issues: ScenarioIssue[] = [];
    for (const scenario of scenarios) {
      const versions = this.byName.get(scenario.name) ?? [];
      const clash = versions.find((v) => v.version === scenario.version);
      if (clash) issues.push({ file: scenario.file, line: 1, col: 1, field: 'id', message: `'${scenario.id}' is also defined in ${clash.file}` });
      versions.push(scenario);
      versions.sort((a, b) => a.version - b.version);
      this.byName.set(scenario.name, versions);
    }
    if (issues.length) throw new ScenarioError(issues);
  }

  /** Every version of every scenario. */
  all(): Scenario[] {
    return [...this.byName.values()].flat();
  }

  /** The latest version of each scenario, sorted by id. */
  latest(): Scenario[] {
    return [...this.byName.values()].map((v) => v[v.length - 1]).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Latest versions outside the hold-out set: the only ones tuning may look at. */
  tuning(): Scenario[] {
    return this.latest().filter((s) => !s.holdout);
  }

  holdout(): Scenario[] {
    return this.latest().filter((s) => s.holdout);
  }

  /** `name` → latest version; `name@vN` → exactly that version. */
  get(ref: string): Scenario {
    const [name, version] = ref.split('@v');
    const versions = this.byName.get(name);
    if (!versions) throw new Error(`no scenario '${name}'; known: ${[...this.byName.keys()].sort().join(', ') || '(none)'}`);
    if (version === undefined) return versions[versions.length - 1];
    const found = versions.find((v) => v.version === Number(version));
    if (!found) throw new Error(`scenario '${name}' has no version v${version}; versions: ${versions.map((v) => `v${v.version}`).join(', ')}`);
    return found;
  }

  /** Latest scenarios whose tags include `tag` (exact, or `key:` prefix when the tag ends with ':'). */
  withTag(tag: string): Scenario[] {
    return this.latest().filter((s) => s.tags.some((t) => (tag.endsWith(':') ? t.startsWith(tag) : t === tag)));
  }

  promptsOf(scenario: Scenario): string[] {
    return scenario.tags.filter((t) => t.startsWith(PROMPT_TAG)).map((t) => t.slice(PROMPT_TAG.length));
  }

  /** How many tuning scenarios cover each agent prompt; fails below `minimum` for any prompt. */
  coverage(minimum = MIN_SCENARIOS_PER_PROMPT): CoverageReport {
    const known = new Set(this.prompts.map((p) => p.name));
    const rows: CoverageRow[] = this.prompts.map((prompt) => {
      const tagged = this.withTag(`${PROMPT_TAG}${prompt.name}`);
      const scenarios = tagged.filter((s) => !s.holdout).map((s) => s.id);
      return { prompt: prompt.name, scenarios, holdout: tagged.filter((s) => s.holdout).map((s) => s.id), ok: scenarios.length >= minimum };
    });
    const unknownPromptTags = this.latest().flatMap((s) =>
      this.promptsOf(s)
        .filter((p) => !known.has(p))
        .map((p) => ({ scenario: s.id, tag: `${PROMPT_TAG}${p}` })),
    );
    const untagged = this.latest()
      .filter((s) => this.promptsOf(s).length === 0)
      .map((s) => s.id);
    return { ok: rows.length > 0 && rows.every((r) => r.ok) && unknownPromptTags.length === 0, minimum, rows, unknownPromptTags, untagged };
  }
}

export function formatCoverage(report: CoverageReport): string[] {
  const lines = [`agent prompt coverage (each needs ≥ ${report.minimum} tuning scenarios; hold-out counted apart):`];
  for (const row of report.rows)
    lines.push(`  ${row.ok ? 'ok  ' : 'FAIL'} ${row.prompt.padEnd(20)} ${String(row.scenarios.length).padStart(2)} tuning, ${row.holdout.length} hold-out  ${row.scenarios.join(', ')}`);
  for (const u of report.unknownPromptTags) lines.push(`  FAIL ${u.scenario} has tag '${u.tag}', which names no prompt in ${PROMPTS_FILE}`);
  if (report.untagged.length) lines.push(`  note: not linked to any prompt: ${report.untagged.join(', ')}`);
  lines.push(report.ok ? 'coverage ok' : 'coverage FAILED');
  return lines;
}

/** Loads every scenario under `dir` and the prompt list; collects the issues of all files before throwing. */
export async function loadRegistry(dir: string = DEFAULT_SCENARIOS_DIR): Promise<Registry> {
  const files = (await listYaml(dir)).filter((f) => path.basename(f) !== PROMPTS_FILE);
  const scenarios: Scenario[] = [];
  const issues: ScenarioIssue[] = [];
  for (const file of files) {
    const display = path.relative(process.cwd(), file) || file;
    try {
      scenarios.push(parseScenario(await fs.readFile(file, 'utf8'), display));
    } catch (error) {
      if (error instanceof ScenarioError) issues.push(...error.issues);
      else throw error;
    }
  }
  const prompts = await loadPrompts(path.join(dir, PROMPTS_FILE)).catch((error: unknown) => {
    if (error instanceof ScenarioError) {
      issues.push(...error.issues);
      return [];
    }
    throw error;
  });
  if (issues.length) throw new ScenarioError(issues);
  return new Registry(scenarios, prompts, dir);
}

async function loadPrompts(file: string): Promise<AgentPrompt[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return [];
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const result = promptsSchema.safeParse(doc.toJS());
  if (result.success && !doc.errors.length) return result.data.prompts;
  const display = path.relative(process.cwd(), file) || file;
  const issues: ScenarioIssue[] = doc.errors.length
    ? doc.errors.map((e) => ({ file: display, ...lineCounter.linePos(e.pos[0]), field: '', message: e.message.split('\n')[0] }))
    : result.error!.issues.map((i) => {
        const node = doc.getIn(i.path, true) as { range?: [number, number, number] } | undefined;
        return { file: display, ...lineCounter.linePos(node?.range?.[0] ?? 0), field: i.path.join('.'), message: i.message };
      });
  throw new ScenarioError(issues);
}

async function listYaml(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listYaml(full)));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out;
}

export { formatIssue };
