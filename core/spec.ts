/**
 * Offline spec synthesis: turns a change request into Given/When/Then scenarios and acceptance
 * criteria without any model call, so the same request always yields the same spec (and ids).
 */
import { PermanentError } from './errors';
import { z } from 'zod';
import type { ChangeRequest } from './change-request';
import type { Spec, SpecScenario } from './stages';

const idPattern = (prefix: 'SPEC' | 'AC') => new RegExp(`^${prefix}-[a-z0-9][a-z0-9-]*-[1-9]\\d*$`);

export const specSchema = z
  .object({
    changeId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    title: z.string().min(1),
    scenarios: z
      .array(
        z
          .object({
            id: z.string().regex(idPattern('SPEC'), 'must look like SPEC-<change id>-<n>'),
            given: z.string().min(1),
            when: z.string().min(1),
            then: z.string().min(1),
          })
          .strict(),
      )
      .min(1),
    acceptanceCriteria: z
      .array(z.object({ id: z.string().regex(idPattern('AC'), 'must look like AC-<change id>-<n>'), text: z.string().min(1) }).strict())
      .min(1),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    for (const [key, items] of [['scenarios', spec.scenarios], ['acceptanceCriteria', spec.acceptanceCriteria]] as const)
      items.forEach((item, i) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id ${item.id}` });
        seen.add(item.id);
        if (!item.id.startsWith(`${key === 'scenarios' ? 'SPEC' : 'AC'}-${spec.changeId}-`))
          ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `must carry the change id ${spec.changeId}` });
      });
  });

/**
 * The statements of an intent: one per bullet or numbered item, and one per sentence in running
 * prose. Markdown emphasis/heading marks and trailing punctuation are dropped.
 */
export function intentStatements(intent: string): string[] {
  const statements: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    const text = paragraph.join(' ').trim();
    paragraph = [];
    // Split after . ! ? followed by whitespace and a capital/quote/digit, except after e.g./i.e./etc.; 'v1.2' stays whole.
    for (const sentence of text.split(/(?<!\b(?:e\.g|i\.e|etc|vs|cf)\.)(?<=[.!?])\s+(?=["'`(A-Z0-9])/)) statements.push(sentence);
  };
  for (const rawLine of intent.replace(/\r\n?/g, '\n').split('\n')) {
    const line = rawLine.trim();
    const bullet = /^(?:[-*+•]|\d+[.)])\s+(.*)$/.exec(line);
    if (line === '' || /^#{1,6}\s/.test(line)) {
      flush(); // headings title a section; they state no requirement of their own
    } else if (bullet) {
      flush();
      paragraph.push(bullet[1]!);
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return statements
    .map((s) => s.replace(/\s+/g, ' ').replace(/[.!?;:,\s]+$/, '').trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
}

function unquoteGitPath(p: string): string {
  const trimmed = p.replace(/\t.*$/, '').trim(); // '--- a/x\t2024-01-01' style timestamps
  if (trimmed.startsWith('"') && trimmed.endsWith('"')) return trimmed.slice(1, -1).replace(/\\(.)/g, '$1');
  return trimmed;
}

const stripSidePrefix = (p: string): string => p.replace(/^[ab]\//, '');

/** Paths a unified diff touches, from its `---`/`+++` headers (or `diff --git` when there are none), in order. */
export function filesTouchedByDiff(diff: string): string[] {
  const files: string[] = [];
  const add = (raw: string) => {
    const path = stripSidePrefix(unquoteGitPath(raw));
    if (path !== '/dev/null' && path !== '' && !files.includes(path)) files.push(path);
  };
  let gitHeaderNewPath: string | undefined;
  let oldPath: string | undefined;
  // Lines still expected in the current hunk, so a removed line '-- x' is not read as a '---' header.
  let oldLeft = 0;
  let newLeft = 0;
  const closeGitSection = () => {
    // Mode-only changes, binaries and pure renames have a `diff --git` line but no ---/+++ lines.
    if (gitHeaderNewPath !== undefined) add(gitHeaderNewPath);
    gitHeaderNewPath = undefined;
  };
  for (const line of diff.replace(/\r\n?/g, '\n').split('\n')) {
    if ((oldLeft > 0 || newLeft > 0) && /^[-+ \\]|^$/.test(line) && !line.startsWith('diff --git ')) {
      if (line.startsWith('-')) oldLeft--;
      else if (line.startsWith('+')) newLeft--;
      else if (!line.startsWith('\\')) {
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    // Anything else ends a hunk, even one whose header promised more lines (hand-edited diffs).
    oldLeft = newLeft = 0;
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      continue;
    }
    const git = /^diff --git (?:"[^"]*"|\S+) ("[^"]*"|\S+)$/.exec(line);
    if (git) {
      closeGitSection();
      gitHeaderNewPath = git[1]!;
      continue;
    }
    if (line.startsWith('--- ')) {
      oldPath = line.slice(4);
    } else if (line.startsWith('+++ ')) {
      gitHeaderNewPath = undefined; // the ---/+++ pair names the file more precisely
      const newPath = line.slice(4);
      // The new side names the file, unless it was deleted; then the old side does.
      add(unquoteGitPath(newPath) === '/dev/null' && oldPath !== undefined ? oldPath : newPath);
      oldPath = undefined;
    }
  }
  closeGitSection();
  return files;
}

function code(text: string): string {
  return '`' + text.replace(/`/g, "'") + '`';
}

function codemodSummary(mod: Extract<ChangeRequest['change'], { kind: 'codemod' }>['codemod']): string {
  switch (mod.codemod) {
    case 'rename-symbol':
      return `the codemod renaming ${code(mod.from)} to ${code(mod.to)} under ${code(mod.scope)}`;
    case 'replace-literal':
      return `the codemod replacing ${code(mod.from)} with ${code(mod.to)} in ${code(mod.file)}`;
    case 'rename-function':
    case 'rename-class':
      return `the codemod renaming ${mod.codemod.slice(7)} ${code(mod.from)} to ${code(mod.to)}`;
    case 'rename-method':
      return `the codemod renaming method ${code((mod.class ? mod.class + '.' : '') + mod.from)} to ${code(mod.to)}`;
    case 'move-file':
      return `the codemod moving ${code(mod.from)} to ${code(mod.to)}`;
    case 'move-function':
      return `the codemod moving function ${code(mod.name)} from ${code(mod.file)} to ${code(mod.to)}`;
    case 'add-parameter':
      return `the codemod adding parameter ${code(mod.parameter.name)} (default ${code(mod.parameter.default)}) to ${code((mod.class ? mod.class + '.' : '') + mod.function)}`;
    case 'replace-call':
      return `the codemod replacing calls ${code(mod.from)} with ${code(mod.to)} under ${code(mod.scope)}`;
  }
}

function changeSummary(cr: ChangeRequest): string {
  const change = cr.change;
  if (change.kind === 'patch') {
    const files = filesTouchedByDiff(change.diff);
    return files.length > 0 ? `the patch touching ${files.map(code).join(', ')}` : 'the patch';
  }
  if (change.kind === 'ref') return `the changes of ${code(change.ref)}`;
  return codemodSummary(change.codemod);
}

/**
 * The code graph's view of one file the change touches: its exported symbols (functions, classes, methods
 * of exported classes) and how many other files/symbols depend on them. See specsynth/graph.ts.
 */
export interface TouchedSymbols {
  file: string;
  symbols: string[];
  dependents: number;
}

export interface SpecContext {
  /** Exported symbols of the touched files, from the code graph when available. */
  symbols?: readonly TouchedSymbols[];
}

const MAX_SYMBOLS_NAMED = 8;

function symbolList(symbols: readonly string[]): string {
  const named = symbols.slice(0, MAX_SYMBOLS_NAMED).map(code).join(', ');
  return symbols.length > MAX_SYMBOLS_NAMED ? `${named} and ${symbols.length - MAX_SYMBOLS_NAMED} more` : named;
}

/** Deterministic Given/When/Then scenarios and acceptance criteria for a change request. */
export function synthesizeSpecFromRequest(cr: ChangeRequest, context: SpecContext = {}): Spec {
  const given = `service ${code(cr.service)} at the head of ${code(cr.baseBranch)}`;
  const when = `change ${code(cr.id)} (${changeSummary(cr)}) is applied`;
  const scenarios: Omit<SpecScenario, 'id'>[] = [];
  const criteria: string[] = [];

  // 1. What the author asked for, one scenario per statement of intent.
  const statements = intentStatements(cr.intent);
  for (const statement of statements.length > 0 ? statements : [cr.title]) {
    scenarios.push({ given, when, then: statement });
    criteria.push(statement);
  }

  // 2. What the change itself promises, from its kind.
  const change = cr.change;
  if (change.kind === 'patch') {
    const files = filesTouchedByDiff(change.diff);
    if (files.length > 0) {
      scenarios.push({
        given,
        when: `the patch for ${code(cr.id)} is applied to ${code(cr.baseBranch)}`,
        then: `it applies cleanly and changes exactly ${files.map(code).join(', ')}`,
      });
      criteria.push(`The candidate differs from ${code(cr.baseBranch)} only in ${files.map(code).join(', ')}`);
    }
  } else if (change.kind === 'ref') {
    // What the ref changes is read in the repository by prepareChange, after the spec: the intent is the promise.
  } else if (change.codemod.codemod === 'rename-symbol') {
    const { from, to, scope } = change.codemod;
    scenarios.push({
      given: `${given}, where ${code(from)} is referenced under ${code(scope)}`,
      when: `the codemod renames ${code(from)} to ${code(to)}`,
      then: `no reference to ${code(from)} remains under ${code(scope)} and every former reference now uses ${code(to)}`,
    });
    criteria.push(`Every reference to ${code(from)} under ${code(scope)} is renamed to ${code(to)}, and the project still type-checks`);
  } else if (change.codemod.codemod === 'replace-literal') {
    const { file, from, to } = change.codemod;
    scenarios.push({
      given: `${given}, where ${code(file)} contains ${code(from)}`,
      when: `the codemod replaces the literal`,
      then: `${code(file)} contains ${code(to)} where it contained ${code(from)} and is otherwise unchanged`,
    });
    criteria.push(`${code(file)} no longer contains ${code(from)}; it contains ${code(to)} in its place`);
  } else {
    const mod = change.codemod;
    const summary = codemodSummary(mod);
    const api = mod.publicApi ?? (mod.codemod === 'replace-call' ? 'preserve' : 'change');
    scenarios.push({
      given,
      when: `${summary} is applied twice`,
      then: `the second application changes nothing and the project still type-checks`,
    });
    criteria.push(`${summary[0]!.toUpperCase()}${summary.slice(1)} leaves no type error that was not there before`);
    if (mod.within) criteria.push(`Only files under ${mod.within.map(code).join(', ')} change`);
    criteria.push(api === 'preserve' ? 'The emitted .d.ts of the non-test files is byte-identical before and after' : 'Public API changes are limited to what the codemod declares');
  }

  // 3. What the code graph says the change reaches: the exported symbols of the touched files and their dependents.
  const touched = [...(context.symbols ?? [])]
    .map((t) => ({ file: t.file, symbols: [...new Set(t.symbols)].sort(), dependents: Math.max(0, Math.floor(t.dependents)) }))
    .filter((t) => t.file !== '' && t.symbols.length > 0)
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const t of touched) {
    const names = symbolList(t.symbols);
    const users = t.dependents === 1 ? '1 dependent' : `${t.dependents} dependents`;
    if (t.dependents > 0) {
      scenarios.push({
        given: `${given}, where ${code(t.file)} exports ${names} with ${users} in the code graph`,
        when,
        then: `every dependent of ${names} still type-checks and its tests pass, unless the change declares the break`,
      });
      criteria.push(`The ${users} of ${names} in ${code(t.file)} still type-check and their tests pass on the candidate`);
    } else {
      scenarios.push({
        given: `${given}, where ${code(t.file)} exports ${names} and the code graph shows no dependents`,
        when,
        then: `${names} keep their exported names and signatures unless the change declares otherwise`,
      });
      criteria.push(`${names} in ${code(t.file)} stay exported with the same signatures, unless the change declares otherwise`);
    }
  }

  // 4. Guard rails every change shares.
  for (const pattern of cr.protectedPaths) {
    scenarios.push({
      given: `${code(pattern)} is a protected path of ${code(cr.service)}`,
      when,
      then: `nothing matching ${code(pattern)} changes unless its owners approve`,
    });
    criteria.push(`Files matching ${code(pattern)} are unchanged, or their owners have approved the change`);
  }
  scenarios.push({ given, when, then: `the service's own test command passes on the candidate` });
  criteria.push(`The service's test command passes on the candidate`);
  criteria.push(`The eval harness score reaches its threshold and every rollout health gate passes`);

  return {
    changeId: cr.id,
    title: cr.title,
    scenarios: scenarios.map((s, i) => ({ id: `SPEC-${cr.id}-${i + 1}`, ...s })),
    acceptanceCriteria: criteria.map((text, i) => ({ id: `AC-${cr.id}-${i + 1}`, text })),
  };
}

/** The spec as Markdown, for PR descriptions and the run record. */
export function renderSpecMarkdown(spec: Spec): string {
  const lines = [`# Spec: ${spec.title}`, '', `Change \`${spec.changeId}\``, '', '## Scenarios', ''];
  for (const s of spec.scenarios) lines.push(`### ${s.id}`, '', `- **Given** ${s.given}`, `- **When** ${s.when}`, `- **Then** ${s.then}`, '');
  lines.push('## Acceptance criteria', '');
  for (const ac of spec.acceptanceCriteria) lines.push(`- [ ] **${ac.id}**: ${ac.text}`);
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------- LLM providers

/**
 * A model that writes specs. Whatever it returns is untrusted: `acceptProviderSpec` validates it against
 * `specSchema` (ids carrying the change id, no duplicates) and fails with a clear message on junk.
 */
export interface SpecProvider {
  readonly name: string;
  /** Gets the request and the offline draft (a model may refine it); returns a Spec as an object or JSON text. */
  /** `context.trainId`: the train the call is made for (the LLM ledger's key). */
  synthesize(changeRequest: ChangeRequest, draft: Spec, context?: { trainId?: string }): Promise<unknown>;
}

/** A provider's output that is not a valid spec: asking again is not expected to fix it. */
export class SpecProviderError extends PermanentError {
  constructor(message: string) {
    super(message, 'InvalidProviderOutput');
  }
}

/** The deterministic default: the offline synthesizer behind the provider interface. */
export const offlineSpecProvider: SpecProvider = {
  name: 'offline',
  synthesize: async (cr) => synthesizeSpecFromRequest(cr),
};

/** Validates a provider's output (object, JSON text, or JSON in a ``` fence) as the spec of `changeId`. */
export function acceptProviderSpec(providerName: string, changeId: string, output: unknown): Spec {
  let value = output;
  if (typeof output === 'string') {
    const fenced = /```(?:json)?\s*\n([\s\S]*?)```/.exec(output);
    try {
      value = JSON.parse(fenced ? fenced[1]! : output);
    } catch (error) {
      throw new SpecProviderError(`spec provider '${providerName}' returned text that is not JSON (${(error as Error).message}): ${JSON.stringify(output.slice(0, 120))}`);
    }
  }
  const parsed = specSchema.safeParse(value);
  if (!parsed.success)
    throw new SpecProviderError(
      `spec provider '${providerName}' returned an invalid spec: ${parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  if (parsed.data.changeId !== changeId)
    throw new SpecProviderError(`spec provider '${providerName}' returned a spec for change '${parsed.data.changeId}', not '${changeId}'`);
  return parsed.data;
}

// -------------------------------------------------------------------------------------- traceability

/** Spec ids as tests cite them: `// covers: SPEC-x-1, AC-x-2` comments or ids in test titles. */
export const SPEC_ID_PATTERN = /\b(?:SPEC|AC)-[a-z0-9][a-z0-9-]*-[1-9]\d*\b/g;

export interface SpecIdCitation {
  id: string;
  /** Repo-relative test file and line. */
  file: string;
  line: number;
  /** The test title when the id is on a `test(`/`it(` line or its `covers:` comment sits just above one. */
  test?: string;
}

/** Finds the spec ids a test file's text cites, with where and (when it can tell) in which test. */
export function citationsIn(file: string, text: string): SpecIdCitation[] {
  const lines = text.split('\n');
  const titleAt = (i: number): string | undefined => /\b(?:it|test)(?:\.\w+)?\(\s*(['"`])(.*?)\1/.exec(lines[i] ?? '')?.[2];
  const found: SpecIdCitation[] = [];
  lines.forEach((line, i) => {
    for (const match of line.matchAll(SPEC_ID_PATTERN)) {
      let title = titleAt(i);
      if (!title && /\/\/\s*covers:|\*\s*covers:/.test(line)) for (let j = i + 1; j < Math.min(lines.length, i + 4) && !title; j++) title = titleAt(j);
      found.push({ id: match[0], file, line: i + 1, ...(title ? { test: title } : {}) });
    }
  });
  return found;
}

export interface TraceRow {
  id: string;
  kind: 'scenario' | 'criterion';
  text: string;
  tests: SpecIdCitation[];
}

export interface SpecTrace {
  changeId: string;
  rows: TraceRow[];
  /** Ids no test cites: visible to the eval harness and policy. */
  uncovered: string[];
  /** Cited ids of this change that the spec does not have (stale or mistyped). */
  unknown: SpecIdCitation[];
}

export function traceSpec(spec: Spec, citations: SpecIdCitation[]): SpecTrace {
  const rows: TraceRow[] = [
    ...spec.scenarios.map((s) => ({ id: s.id, kind: 'scenario' as const, text: `Given ${s.given}, when ${s.when}, then ${s.then}`, tests: [] as SpecIdCitation[] })),
    ...spec.acceptanceCriteria.map((a) => ({ id: a.id, kind: 'criterion' as const, text: a.text, tests: [] as SpecIdCitation[] })),
  ];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const unknown: SpecIdCitation[] = [];
  for (const c of citations) {
    const row = byId.get(c.id);
    if (row) row.tests.push(c);
    else if (c.id.startsWith(`SPEC-${spec.changeId}-`) || c.id.startsWith(`AC-${spec.changeId}-`)) unknown.push(c);
  }
  return { changeId: spec.changeId, rows, uncovered: rows.filter((r) => r.tests.length === 0).map((r) => r.id), unknown };
}

export function renderTrace(trace: SpecTrace): string {
  const lines = [`Spec trace for change ${trace.changeId}: ${trace.rows.length - trace.uncovered.length}/${trace.rows.length} ids covered`];
  for (const row of trace.rows) {
    lines.push(`${row.tests.length ? '  ok  ' : '  NONE'} ${row.id}  ${row.text.length > 90 ? row.text.slice(0, 87) + '...' : row.text}`);
    for (const t of row.tests) lines.push(`         ${t.file}:${t.line}${t.test ? `  "${t.test}"` : ''}`);
  }
  if (trace.uncovered.length) lines.push(`uncovered: ${trace.uncovered.join(', ')}`);
  for (const u of trace.unknown) lines.push(`unknown id ${u.id} cited at ${u.file}:${u.line}`);
  return lines.join('\n');
}

// ----------------------------------------------------------------------------------------- coverage

export interface SpecCoverage {
  changeId: string;
  /** Acceptance criteria cited by at least one test / all of them. */
  covered: number;
  total: number;
  /** covered / total (1 for a spec without criteria, which the schema does not allow). */
  score: number;
  uncoveredCriteria: { id: string; text: string }[];
  /** Scenarios no test cites (reported, not scored). */
  uncoveredScenarios: string[];
}

/** How much of a spec's acceptance criteria its tests cover: the figure the eval harness scores and policy reads. */
export function specCoverage(trace: SpecTrace): SpecCoverage {
  const criteria = trace.rows.filter((r) => r.kind === 'criterion');
  const uncovered = criteria.filter((r) => r.tests.length === 0);
  const covered = criteria.length - uncovered.length;
  return {
    changeId: trace.changeId,
    covered,
    total: criteria.length,
    score: criteria.length === 0 ? 1 : covered / criteria.length,
    uncoveredCriteria: uncovered.map((r) => ({ id: r.id, text: r.text })),
    uncoveredScenarios: trace.rows.filter((r) => r.kind === 'scenario' && r.tests.length === 0).map((r) => r.id),
  };
}

/**
 * The coverage in words; its first line is the contract policy reads from an eval report (which carries only
 * explanations): `spec <change>: <covered>/<total> acceptance criteria covered by tests[; uncovered: <ids>]`.
 */
export function describeSpecCoverage(coverage: SpecCoverage): string {
  const head = `spec ${coverage.changeId}: ${coverage.covered}/${coverage.total} acceptance criteria covered by tests${
    coverage.uncoveredCriteria.length ? `; uncovered: ${coverage.uncoveredCriteria.map((c) => c.id).join(', ')}` : ''
  }`;
  const lines = [head, ...coverage.uncoveredCriteria.map((c) => `  no test cites ${c.id}: ${c.text}`)];
  if (coverage.uncoveredScenarios.length) lines.push(`  scenarios no test cites (not scored): ${coverage.uncoveredScenarios.join(', ')}`);
  return lines.join('\n');
}

/** Reads back the first line of `describeSpecCoverage`; undefined when `text` is not a coverage description. */
export function parseSpecCoverageLine(text: string): { changeId: string; covered: number; total: number; uncovered: string[] } | undefined {
  const m = /^spec ([a-z0-9][a-z0-9-]*): (\d+)\/(\d+) acceptance criteria covered by tests(?:; uncovered: (.*))?$/m.exec(text);
  if (!m) return undefined;
  return { changeId: m[1]!, covered: Number(m[2]), total: Number(m[3]), uncovered: [...(m[4] ?? '').matchAll(SPEC_ID_PATTERN)].map((x) => x[0]) };
}
