/**
 * Test-change analysis: how a change touches the tests that judge it. Pure: it reads a unified diff
 * (`git diff --no-renames base candidate`), the base and candidate texts of the files the diff touches and
 * the base's test files, and lists findings with file and line. A finding is something that can make a
 * suite pass without the behaviour it checked (a deleted test, a weaker assertion, a skip, an exclusion,
 * source special-casing a test input, a swallowed error, an overloaded comparison, a lowered threshold,
 * a rewritten snapshot). Test renames and expectation updates that the change intent documents are
 * `evidence`, not findings.
 */
import * as ts from 'typescript';

export const TEST_CHANGE_KINDS = [
  'test-file-deleted',
  'test-case-deleted',
  'assertion-removed',
  'assertion-weakened',
  'expectation-changed',
  'test-skipped',
  'tests-excluded',
  'unit-mocked',
  'special-cased-input',
  'error-swallowed',
  'comparison-overloaded',
  'threshold-lowered',
  'snapshot-rewritten',
] as const;
export type TestChangeKind = (typeof TEST_CHANGE_KINDS)[number];

export interface TestChange {
  kind: TestChangeKind;
  file: string;
  /** 1-based line: in the candidate for added code, in the base for deleted code. */
  line: number;
  detail: string;
}

export interface TestChangeEvidence {
  kind: 'test-renamed' | 'expectation-updated';
  file: string;
  line: number;
  /** The base test's name (what the base-test run reports). */
  test: string;
  detail: string;
}

export interface TestChangeAnalysis {
  findings: TestChange[];
  evidence: TestChangeEvidence[];
  /** Base tests whose expectation the change updates as its intent documents: their base failures are intended. */
  intendedTests: string[];
  /** Base test cases whose lines the change edits (the base version is what judges the candidate). */
  modifiedTests: { file: string; test: string }[];
  /**
   * Test files the change edits only by renaming identifiers the same way its source does (a rename
   * codemod): the candidate's version is the base test under the new names, so it may stand in for it.
   */
  renamedOnly: string[];
}

export interface TestChangeInput {
  /** Unified diff, base → candidate, without rename detection. */
  diff: string;
  /** Base and candidate text of each file the diff touches (absent side: file added or deleted). */
  files: Record<string, { base?: string; candidate?: string }>;
  /** Every test file of the base, by path (the inputs source code might special-case). */
  baseTestFiles: Record<string, string>;
  /** The change request's intent: an expectation update is intended when it names what the update adds. */
  intent?: string;
}

export const TEST_FILE = /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]sx?$/;
const SNAPSHOT_FILE = /(^|\/)__snapshots__\/|\.snap$/;
const RUNNER_CONFIG = /(^|\/)(jest|vitest|vite|mocha|ava|playwright)\.config\.[cm]?[jt]s$|(^|\/)\.mocharc(\.\w+)?$|(^|\/)package\.json$|(^|\/)maestro\.service\.json$/;
const SOURCE_FILE = /\.[cm]?[jt]sx?$/;

export const isTestFile = (file: string): boolean => TEST_FILE.test(file) || SNAPSHOT_FILE.test(file);

interface DiffLine {
  kind: '+' | '-';
  text: string;
  /** Line in the candidate ('+') or the base ('-'). */
  line: number;
}
interface Hunk {
  lines: DiffLine[];
}
interface FileDiff {
  file: string;
  status: 'added' | 'deleted' | 'modified';
  hunks: Hunk[];
}

/** Parses `git diff` output into files, hunks and their added/removed lines with line numbers. */
export function parseUnifiedDiff(diff: string): FileDiff[] {
  const files: FileDiff[] = [];
  let current: FileDiff | undefined;
  let hunk: Hunk | undefined;
  let oldLine = 0;
  let newLine = 0;
  for (const raw of diff.split('\n')) {
    const header = /^diff --git a\/(.+) b\/(.+)$/.exec(raw);
    if (header) {
      current = { file: header[2], status: 'modified', hunks: [] };
      files.push(current);
      hunk = undefined;
      continue;
    }
    if (!current) continue;
    if (!hunk) {
      if (raw.startsWith('new file mode')) current.status = 'added';
      else if (raw.startsWith('deleted file mode')) current.status = 'deleted';
      else if (raw.startsWith('+++ ') && raw !== '+++ /dev/null') current.file = raw.slice(4).replace(/^b\//, '');
      else if (raw.startsWith('--- ') && raw !== '--- /dev/null' && current.status === 'deleted') current.file = raw.slice(4).replace(/^a\//, '');
    }
    const at = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (at) {
      oldLine = Number(at[1]);
      newLine = Number(at[2]);
      hunk = { lines: [] };
      current.hunks.push(hunk);
      continue;
    }
    if (!hunk) continue;
    if (raw.startsWith('+')) hunk.lines.push({ kind: '+', text: raw.slice(1), line: newLine++ });
    else if (raw.startsWith('-')) hunk.lines.push({ kind: '-', text: raw.slice(1), line: oldLine++ });
    else if (raw.startsWith(' ') || raw === '') {
      oldLine++;
      newLine++;
    }
  }
  return files;
}

export interface TestCase {
  name: string;
  /** 1-based first and last line of the call. */
  start: number;
  end: number;
  /** The call's text after its name argument (body and options), whitespace-normalised. */
  body: string;
}

const TEST_CALLEES = new Set(['test', 'it', 'describe', 'suite', 'xit', 'xdescribe', 'fit', 'fdescribe']);

/** The function a call goes through: `test` for test('…'), test.skip('…') and test.each([…])('…'). */
function calleeRoot(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return calleeRoot(e.expression);
  if (ts.isCallExpression(e)) return calleeRoot(e.expression);
  return undefined;
}

/** The test cases (`test('name', …)`, `it.skip('name', …)`, `describe(…)` …) of a test file, by AST. */
export function testCases(file: string, text: string): TestCase[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: TestCase[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const callee = calleeRoot(node.expression);
      const [first, ...rest] = node.arguments;
      if (callee && TEST_CALLEES.has(callee) && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) {
        const line = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
        found.push({ name: first.text, start: line(node.getStart(source)), end: line(node.getEnd()), body: rest.map((a) => a.getText(source)).join(',').replace(/\s+/g, ' ') });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** String literals of a source text with at least 3 non-blank characters, module specifiers excluded. */
export function stringLiterals(file: string, text: string): Set<string> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && node.text.replace(/\s/g, '').length >= 3) {
      const parent = node.parent;
      const isRequire = parent && ts.isCallExpression(parent) && ts.isIdentifier(parent.expression) && ['require', 'import'].includes(parent.expression.text);
      const isTestName = parent && ts.isCallExpression(parent) && parent.arguments[0] === node && TEST_CALLEES.has(calleeRoot(parent.expression) ?? '');
      if (!isRequire && !isTestName) out.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** How strongly an assertion method constrains its subject; unknown methods (helpers) are not ranked. */
const ASSERTION_STRENGTH: Record<string, number> = {
  deepStrictEqual: 3, strictEqual: 3, toStrictEqual: 3, toBe: 3, partialDeepStrictEqual: 2, toMatchObject: 2,
  deepEqual: 2, equal: 2, toEqual: 2, throws: 2, rejects: 2, toThrow: 2, match: 2, toMatch: 2, toContain: 2,
  notStrictEqual: 1, notDeepStrictEqual: 1, notEqual: 1, notDeepEqual: 1, doesNotMatch: 1, doesNotThrow: 1, doesNotReject: 1,
  ok: 1, toBeTruthy: 1, toBeFalsy: 1, toBeDefined: 1, not: 1, anything: 0,
};
// t.<method>( is an assertion in tap, but not node:test's plan, hooks, mocks or subtests.
const ASSERTION_CALL = /\b(?:assert(?:\.(\w+))?|expect\s*\(.*?\)\s*(?:\.not)?\.(\w+)|t\.(?:assert\.)?(?!(?:plan|before|after|beforeEach|afterEach|diagnostic|test|mock|skip|todo|runOnly)\b)(\w+)|assert\w+)\s*\(/;
const ASSERTION_CALLS = /\bassert\w*(?:\.\w+)?\s*\(|\bexpect\s*\(|\bt\.assert\.\w+\s*\(/g;

function assertionMethod(text: string): string | undefined {
  const m = ASSERTION_CALL.exec(text);
  if (!m) return undefined;
  return m[1] ?? m[2] ?? m[3] ?? (/\bassert\s*\(/.test(text) ? 'ok' : undefined);
}
const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * An assertion line with its callee reduced to the method, so the same check through another receiver compares
 * equal (`t.assert.equal(a, 1)`, `assert.equal(a, 1)`); in `expect(subject).method(…)` the subject stays.
 */
function assertionCheck(text: string): string {
  const m = ASSERTION_CALL.exec(text);
  if (!m || m[2] !== undefined) return norm(text);
  return norm(`${text.slice(0, m.index)}${m[1] ?? m[3] ?? m[0].replace(/\s*\($/, '')}(${text.slice(m.index + m[0].length)}`);
}
const countAssertions = (text: string): number => (text.match(ASSERTION_CALLS) ?? []).length;
/** Tokens of a source text (trivia dropped), by the TypeScript scanner. */
function tokens(text: string): { kind: ts.SyntaxKind; text: string }[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  const out: { kind: ts.SyntaxKind; text: string }[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) out.push({ kind, text: scanner.getTokenText() });
  return out;
}

const NEVER_RENAMED = new Set([...Object.keys(ASSERTION_STRENGTH), ...TEST_CALLEES, 'skip', 'only', 'todo', 'assert', 'expect', 'mock']);

/**
 * The identifier renames (old → new) that turn `before` into `after` when the two differ only by a consistent,
 * one-to-one renaming of identifiers; undefined otherwise. Assertion methods and test functions never count
 * as renamed (`strictEqual` → `notStrictEqual` is a different test, not a rename).
 */
export function identifierRenames(before: string, after: string): Map<string, string> | undefined {
  const a = tokens(before);
  const b = tokens(after);
  if (a.length !== b.length) return undefined;
  const forward = new Map<string, string>();
  const backward = new Map<string, string>();
  for (let i = 0; i < a.length; i++) {
    if (a[i].text === b[i].text) continue;
    if (a[i].kind !== ts.SyntaxKind.Identifier || b[i].kind !== ts.SyntaxKind.Identifier) return undefined;
    if (NEVER_RENAMED.has(a[i].text) || NEVER_RENAMED.has(b[i].text)) return undefined;
    if ((forward.get(a[i].text) ?? b[i].text) !== b[i].text || (backward.get(b[i].text) ?? a[i].text) !== a[i].text) return undefined;
    forward.set(a[i].text, b[i].text);
    backward.set(b[i].text, a[i].text);
  }
  return forward;
}

const SKIP_PATTERNS: { re: RegExp; what: string }[] = [
  { re: /\b(?:it|test|describe|suite|context)\.(skip|only|todo|fixme)\b/, what: '$1' },
  { re: /\b(xit|xdescribe|fit|fdescribe|xtest)\s*\(/, what: '$1' },
  { re: /\{[^}]*\b(skip|only|todo)\s*:\s*(?!false\b)[^,}]+/, what: '{ $1 }' },
  { re: /\bt\.(skip|todo)\s*\(/, what: 't.$1()' },
];
const MOCK_CALL = /\b(?:jest|vi)\.(mock|spyOn|doMock)\s*\(|\bmock\.(method|module|fn)\s*\(|\bsinon\.(stub|replace)\s*\(|\bproxyquire\b/;
const EXCLUDING_CONFIG = /\b(testPathIgnorePatterns|modulePathIgnorePatterns|exclude|ignore|testMatch|testRegex|include|roots|spec|bail)\b/;
/** Test-command arguments that select fewer tests (node --test, jest, mocha). */
const NARROWING_ARG = /^--(test-name-pattern|test-skip-pattern|test-only|test-shard|testNamePattern|testPathPattern|testPathIgnorePatterns|shard|grep|fgrep|invert)(=|$)/;
const THRESHOLD_LINE = /(threshold|min[A-Z_]?\w*|coverage|pass_at|minScore|branches|functions|lines|statements)\W/i;
const COMPARISON_OVERLOAD = /\[\s*Symbol\.toPrimitive\s*\]|\b(valueOf|toString|toJSON|equals|isEqual|compareTo|\[Symbol\.for\([^)]*\)\])\s*(?:\([^)]*\)\s*(?::\s*[\w<>[\]| ]+)?\s*\{|[:=]\s*(?:function\b|\([^)]*\)\s*=>|\w+\s*=>))|Object\.defineProperty\([^,]+,\s*['"](valueOf|toString|equals)['"]/;
const WORD = /[\p{L}\p{N}_]{2,}/gu;
const NON_DOCUMENTING = new Set(['true', 'false', 'null', 'undefined', 'assert', 'expect', 'equal', 'strictEqual', 'deepEqual', 'deepStrictEqual', 'ok', 'toBe', 'toEqual', 'await', 'const', 'let', 'return', 'new', 'as']);

/** Words an updated line adds over the line it replaces: what the intent must name for the update to be intended. */
function addedWords(before: string, after: string): string[] {
  const had = new Set(before.match(WORD) ?? []);
  return [...new Set((after.match(WORD) ?? []).filter((w) => !had.has(w) && !NON_DOCUMENTING.has(w) && !/^\d+$/.test(w)))];
}

function jsonTestCommand(text: string | undefined, key: 'maestro' | 'package'): string[] | undefined {
  if (text === undefined) return undefined;
  try {
    const data = JSON.parse(text) as { test?: unknown; scripts?: { test?: unknown } };
    const value = key === 'maestro' ? data.test : data.scripts?.test;
    if (Array.isArray(value)) return value.map(String);
    if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
    return undefined;
  } catch {
    return undefined;
  }
}

/** The first line (1-based) of `text` containing `needle`, else 1. */
const lineOf = (text: string | undefined, needle: string): number => {
  const i = (text ?? '').split('\n').findIndex((l) => l.includes(needle));
  return i < 0 ? 1 : i + 1;
};

export function analyzeTestChanges(input: TestChangeInput): TestChangeAnalysis {
  const findings: TestChange[] = [];
  const evidence: TestChangeEvidence[] = [];
  const intended = new Set<string>();
  const modified = new Map<string, { file: string; test: string }>();
  const renamedOnly: string[] = [];
  const diffs = parseUnifiedDiff(input.diff);
  // Identifiers the change's non-test source adds: a rename in a test file must follow one in the source.
  const sourceAdded = new Set(
    diffs
      .filter((fd) => SOURCE_FILE.test(fd.file) && !TEST_FILE.test(fd.file))
      .flatMap((fd) => fd.hunks.flatMap((h) => h.lines.filter((l) => l.kind === '+').flatMap((l) => l.text.match(/[A-Za-z_$][\w$]*/g) ?? []))),
  );
  const intentWords = new Set((input.intent ?? '').toLowerCase().match(WORD) ?? []);

  // Source inputs the base tests use: literals special-cased in source are a finding.
  const testLiterals = new Map<string, string>();
  for (const [file, text] of Object.entries(input.baseTestFiles))
    if (SOURCE_FILE.test(file)) for (const literal of stringLiterals(file, text)) if (!testLiterals.has(literal)) testLiterals.set(literal, file);

  let assertionsRemoved: { file: string; line: number; text: string }[] = [];
  let assertionDelta = 0;

  for (const fd of diffs) {
    const texts = input.files[fd.file] ?? {};
    const added = fd.hunks.flatMap((h) => h.lines.filter((l) => l.kind === '+'));
    if (SNAPSHOT_FILE.test(fd.file)) {
      if (fd.status !== 'added') findings.push({ kind: 'snapshot-rewritten', file: fd.file, line: fd.hunks[0]?.lines[0]?.line ?? 1, detail: `snapshot ${fd.status === 'deleted' ? 'deleted' : 'rewritten'}: the expected output now comes from the candidate` });
      continue;
    }
    if (TEST_FILE.test(fd.file)) {
      if (fd.status === 'deleted') {
        const names = texts.base !== undefined && SOURCE_FILE.test(fd.file) ? testCases(fd.file, texts.base).map((t) => t.name) : [];
        findings.push({ kind: 'test-file-deleted', file: fd.file, line: 1, detail: names.length ? `deletes ${names.length} test(s): ${names.map((n) => `'${n}'`).join(', ')}` : 'test file deleted' });
        continue;
      }
      if (!SOURCE_FILE.test(fd.file)) continue;
      const renames = texts.base !== undefined && texts.candidate !== undefined ? identifierRenames(texts.base, texts.candidate) : undefined;
      if (renames && renames.size > 0 && [...renames.values()].every((to) => sourceAdded.has(to))) {
        renamedOnly.push(fd.file);
        continue;
      }
      assertionDelta += countAssertions(texts.candidate ?? '') - countAssertions(texts.base ?? '');
      const baseCases = texts.base !== undefined ? testCases(fd.file, texts.base) : [];
      const candidateCases = texts.candidate !== undefined ? testCases(fd.file, texts.candidate) : [];
      const baseNames = new Set(baseCases.map((t) => t.name));
      // Tests are matched one to one, not by name alone: several tests may share a name (upstream fastify/forwarded
      // has three), and deleting one of them must still count. First the unchanged, then the edited under their name.
      const unmatched = [...candidateCases];
      const take = (match: (t: TestCase) => boolean): TestCase | undefined => {
        const i = unmatched.findIndex(match);
        return i < 0 ? undefined : unmatched.splice(i, 1)[0];
      };
      const edited = baseCases.filter((b) => !take((t) => t.name === b.name && t.body === b.body));
      for (const gone of edited.filter((b) => !take((t) => t.name === b.name))) {
        const renamed = take((t) => !baseNames.has(t.name) && t.body === gone.body);
        if (renamed) evidence.push({ kind: 'test-renamed', file: fd.file, line: gone.start, test: gone.name, detail: `'${gone.name}' renamed to '${renamed.name}', body unchanged` });
        else findings.push({ kind: 'test-case-deleted', file: fd.file, line: gone.start, detail: `test '${gone.name}' removed` });
      }
      const caseAt = (line: number): TestCase | undefined => baseCases.filter((t) => t.start <= line && line <= t.end).sort((a, b) => b.start - a.start)[0];
      for (const l of added) {
        for (const { re, what } of SKIP_PATTERNS) {
          const m = re.exec(l.text);
          if (m) {
            findings.push({ kind: 'test-skipped', file: fd.file, line: l.line, detail: `adds ${what.replace('$1', m[1])}: ${norm(l.text)}` });
            break;
          }
        }
        if (MOCK_CALL.test(l.text)) findings.push({ kind: 'unit-mocked', file: fd.file, line: l.line, detail: `adds a mock: ${norm(l.text)}` });
        if (/from\s+['"](node:)?assert['"]|require\(['"](node:)?assert['"]\)/.test(l.text) && /(node:)?assert\/strict/.test(texts.base ?? ''))
          findings.push({ kind: 'assertion-weakened', file: fd.file, line: l.line, detail: `switches from strict to loose assertions: ${norm(l.text)}` });
      }
      const candidateCaseAt = (line: number): TestCase | undefined => candidateCases.filter((t) => t.start <= line && line <= t.end).sort((a, b) => b.start - a.start)[0];
      for (const l of fd.hunks.flatMap((h) => h.lines)) {
        const test = l.kind === '-' ? caseAt(l.line) : candidateCaseAt(l.line);
        if (test && (l.kind === '-' || baseNames.has(test.name))) modified.set(`${fd.file}\0${test.name}`, { file: fd.file, test: test.name });
      }
      // Checks the change keeps (moved, or through another receiver) are neither removed nor replacements.
      const addedChecks = new Set(added.map((l) => assertionCheck(l.text)));
      const removedChecks = new Set(fd.hunks.flatMap((h) => h.lines.filter((l) => l.kind === '-').map((l) => assertionCheck(l.text))));
      for (const hunk of fd.hunks) {
        // A removed assertion is compared with the added one at the same position in the same test (by name):
        // an assertion added elsewhere (a helper, say) is no replacement, only part of the assertion balance.
        const removedAsserts = hunk.lines.filter((l) => l.kind === '-' && assertionMethod(l.text) && !addedChecks.has(assertionCheck(l.text)));
        const addedAsserts = hunk.lines.filter((l) => l.kind === '+' && assertionMethod(l.text) && !removedChecks.has(assertionCheck(l.text)));
        const seen = new Map<string, number>();
        removedAsserts.forEach((removed) => {
          const before = assertionMethod(removed.text)!;
          const test = caseAt(removed.line);
          const key = test?.name ?? '';
          const index = seen.get(key) ?? 0;
          seen.set(key, index + 1);
          const replacement = addedAsserts.filter((l) => (candidateCaseAt(l.line)?.name ?? '') === key)[index];
          if (!replacement) {
            assertionsRemoved.push({ file: fd.file, line: removed.line, text: norm(removed.text) });
            return;
          }
          const after = assertionMethod(replacement.text)!;
          const [sb, sa] = [ASSERTION_STRENGTH[before], ASSERTION_STRENGTH[after]];
          if (sb !== undefined && sa !== undefined && sa < sb) {
            findings.push({ kind: 'assertion-weakened', file: fd.file, line: replacement.line, detail: `${before} → ${after}${test ? ` in '${test.name}'` : ''}: ${norm(replacement.text)}` });
            return;
          }
          if (before !== after) return; // a different assertion (a helper, say): counted by the assertion balance
          const words = addedWords(removed.text, replacement.text);
          const documented = words.length > 0 && words.every((w) => intentWords.has(w.toLowerCase()));
          const detail = `expected value changed${test ? ` in '${test.name}'` : ''}: ${norm(removed.text)} → ${norm(replacement.text)}`;
          if (documented && test) {
            intended.add(test.name);
            evidence.push({ kind: 'expectation-updated', file: fd.file, line: replacement.line, test: test.name, detail: `${detail} (the intent names ${words.map((w) => `'${w}'`).join(', ')})` });
          } else
            findings.push({
              kind: 'expectation-changed',
              file: fd.file,
              line: replacement.line,
              detail: `${detail}${words.length ? `; the change intent does not mention ${words.filter((w) => !intentWords.has(w.toLowerCase())).map((w) => `'${w}'`).join(', ')}` : ''}`,
            });
        });
      }
      continue;
    }
    if (RUNNER_CONFIG.test(fd.file)) {
      const kind = fd.file.endsWith('maestro.service.json') ? 'maestro' : fd.file.endsWith('package.json') ? 'package' : undefined;
      if (kind) {
        const before = jsonTestCommand(texts.base, kind);
        const after = jsonTestCommand(texts.candidate, kind);
        const lost = before ? before.filter((arg) => !(after ?? []).includes(arg)) : [];
        // Fewer tests without losing an argument: a name filter, or test files named where the base let the runner find them all.
        const narrowing = before && after ? after.filter((arg) => !before.includes(arg) && (NARROWING_ARG.test(arg) || (TEST_FILE.test(arg) && !before.some((b) => TEST_FILE.test(b))))) : [];
        const parts = [
          ...(lost.length ? [`no longer has ${lost.map((a) => `'${a}'`).join(', ')}`] : []),
          ...(narrowing.length ? [`now narrows the tests it runs with ${narrowing.map((a) => `'${a}'`).join(', ')}`] : []),
        ];
        if (parts.length) findings.push({ kind: 'tests-excluded', file: fd.file, line: lineOf(texts.candidate, '"test"'), detail: `the test command ${parts.join(' and ')}` });
      } else
        for (const l of added)
          if (EXCLUDING_CONFIG.test(l.text)) findings.push({ kind: 'tests-excluded', file: fd.file, line: l.line, detail: `runner configuration changes which tests run: ${norm(l.text)}` });
    }
    // Thresholds: a numeric literal lowered on a threshold-like line of any non-test file.
    for (const hunk of fd.hunks) {
      const removed = hunk.lines.filter((l) => l.kind === '-' && THRESHOLD_LINE.test(l.text));
      const addedHere = hunk.lines.filter((l) => l.kind === '+' && THRESHOLD_LINE.test(l.text));
      for (const r of removed) {
        const key = THRESHOLD_LINE.exec(r.text)![1].toLowerCase();
        const a = addedHere.find((l) => THRESHOLD_LINE.exec(l.text)![1].toLowerCase() === key);
        const nb = Number(/(-?\d+(?:\.\d+)?)/.exec(r.text.slice(r.text.toLowerCase().indexOf(key)))?.[1]);
        const na = a ? Number(/(-?\d+(?:\.\d+)?)/.exec(a.text.slice(a.text.toLowerCase().indexOf(key)))?.[1]) : Number.NaN;
        if (a && Number.isFinite(nb) && Number.isFinite(na) && na < nb) findings.push({ kind: 'threshold-lowered', file: fd.file, line: a.line, detail: `${key} lowered from ${nb} to ${na}: ${norm(a.text)}` });
      }
    }
    if (!SOURCE_FILE.test(fd.file)) continue;
    // Non-test source: the unit under test.
    const baseLiterals = texts.base !== undefined ? stringLiterals(fd.file, texts.base) : new Set<string>();
    const reported = new Set<string>();
    for (const [i, l] of added.entries()) {
      const literals = stringLiterals(fd.file, l.text);
      for (const literal of literals) {
        const testFile = testLiterals.get(literal);
        if (testFile && !baseLiterals.has(literal) && !reported.has(literal)) {
          reported.add(literal);
          findings.push({ kind: 'special-cased-input', file: fd.file, line: l.line, detail: `source now mentions ${JSON.stringify(literal)}, an input of ${testFile}: ${norm(l.text)}` });
        }
      }
      if (COMPARISON_OVERLOAD.test(l.text)) findings.push({ kind: 'comparison-overloaded', file: fd.file, line: l.line, detail: `overrides how values compare or convert: ${norm(l.text)}` });
      const emptyCatch = /\bcatch\s*(\([^)]*\))?\s*\{\s*\}/.test(l.text) || /\.catch\(\s*(\(\s*\w*\s*\)|\w+)\s*=>\s*(\{\s*\}|undefined|null|\[\]|\{\}|''|""|false|true|0)\s*\)/.test(l.text);
      const catchReturns = /\bcatch\b\s*(\([^)]*\))?\s*\{/.test(l.text) && (/\{\s*return\b/.test(l.text) || (added[i + 1]?.line === l.line + 1 && /^\s*return\b/.test(added[i + 1].text)));
      if (emptyCatch || catchReturns) findings.push({ kind: 'error-swallowed', file: fd.file, line: l.line, detail: `${emptyCatch ? 'an empty catch' : 'a catch that returns a value'} in the unit under test: ${norm(l.text)}` });
    }
  }
  // Assertions removed without an equivalent elsewhere: only when the test files lose assertions overall
  // (a helper that asserts for several call sites is a refactor, not a weakening).
  if (assertionDelta < 0) {
    assertionsRemoved = assertionsRemoved.slice(0, Math.max(1, -assertionDelta));
    for (const r of assertionsRemoved) findings.push({ kind: 'assertion-removed', file: r.file, line: r.line, detail: `assertion removed: ${r.text}` });
  }
  return { findings, evidence, intendedTests: [...intended].sort(), modifiedTests: [...modified.values()], renamedOnly };
}
