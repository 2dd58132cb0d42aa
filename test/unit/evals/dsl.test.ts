import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseScenario, ScenarioError } from '../../../evals/dsl';
import { loadRegistry, Registry } from '../../../evals/registry';

const errorsOf = (text: string): string[] => {
  try {
    parseScenario(text, 'evals/scenarios/x.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message.split('\n');
  }
  throw new Error('expected a ScenarioError');
};

describe('scenario DSL', () => {
  it('parses a scenario with defaults, name and version', () => {
    const s = parseScenario('id: implement.fix-test@v2\ntitle: t\nchecks:\n  - type: tests_pass\n');
    expect(s).toMatchObject({ name: 'implement.fix-test', version: 2, holdout: false, scoring: { threshold: 0.85 }, timeout: 120000, repeats: 1 });
    expect(s.checks[0]).toMatchObject({ type: 'tests_pass', weight: 1, required: false, pass_at: 1, tests: [] });
    expect(s.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names file, line, column (of the bad value), field and the allowed check types for an unknown type', () => {
    const lines = errorsOf('id: a.b@v1\ntitle: t\nchecks:\n  - type: tests_pass\n  - type: test_pass\n    weight: 2\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^evals\/scenarios\/x\.yaml:5:11: checks\.1\.type: got 'test_pass', allowed: 'patch_applies', 'tests_pass', 'risk_score_max', 'structured_requirements', 'exact', 'contains', 'regex', 'json_schema', 'semantic', 'spec_coverage', 'base_tests_pass', 'changed_lines_covered', 'mutation_score'$/);
  });

  it('mutation_score: passes at 70% by default, compares with the base, one test process; a bad concurrency says where', () => {
    const s = parseScenario('id: mutation.x@v1\ntitle: t\nchecks:\n  - type: mutation_score\n');
    expect(s.checks[0]).toEqual({ type: 'mutation_score', weight: 1, required: false, pass_at: 0.7, compare_base: true, concurrency: 1 });
    expect(errorsOf('id: a.b@v1\ntitle: t\nchecks:\n  - type: mutation_score\n    concurrency: 0\n')).toEqual(['evals/scenarios/x.yaml:5:18: checks.0.concurrency: must be ≥ 1']);
  });

  it('points at the value for bad enums and numbers, at the key for unknown fields, at the parent for missing ones', () => {
    const lines = errorsOf(
      [
        'id: a.b@v1',
        'title: t',
        'colour: red',
        'checks:',
        '  - type: contains',
        '    source: diff',
        '    values: [x]',
        '    match: some',
        '  - type: risk_score_max',
        '    max: 3',
        '  - type: structured_requirements',
        '    requirements:',
        '      - text: r',
        '        verify: vibes',
        '  - type: exact',
        '    source: stdout',
        '    expected: x',
        '',
      ].join('\n'),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        "evals/scenarios/x.yaml:1:1: (root): unknown field(s) 'colour'".replace('1:1', '3:1'),
        "evals/scenarios/x.yaml:8:12: checks.0.match: got 'some', allowed: 'all', 'any', 'none'",
        'evals/scenarios/x.yaml:10:10: checks.1.max: must be ≤ 1',
        "evals/scenarios/x.yaml:14:17: checks.2.requirements.0.verify: got 'vibes', allowed: 'fail_to_pass', 'public_api_unchanged', 'llm_judge'",
        expect.stringMatching(/^evals\/scenarios\/x\.yaml:16:13: checks\.3\.source: got 'stdout': allowed: 'diff', 'commit_message', 'output', 'command', 'file:<path>'$/),
      ]),
    );
    const missing = errorsOf('id: a.b@v1\nchecks:\n  - type: regex\n    source: diff\n');
    expect(missing).toEqual(
      expect.arrayContaining(['evals/scenarios/x.yaml:1:1: title: required (string)', 'evals/scenarios/x.yaml:3:5: checks.0.pattern: required (string)']),
    );
  });

  it('reports bad ids, YAML syntax, bad regexes and duplicate check names', () => {
    expect(errorsOf('id: Fix@2\ntitle: t\nchecks: [{type: tests_pass}]\n')[0]).toMatch(/:1:5: id: got 'Fix@2': must look like 'area\.name@v1'/);
    expect(errorsOf('id: a@v1\ntitle: [unclosed\n')[0]).toMatch(/^evals\/scenarios\/x\.yaml:\d+:\d+: \(root\): YAML syntax/);
    expect(errorsOf("id: a@v1\ntitle: t\nchecks:\n  - type: regex\n    source: diff\n    pattern: '('\n")[0]).toMatch(/:6:14: checks\.0\.pattern: not a valid regular expression/);
    expect(errorsOf('id: a@v1\ntitle: t\nchecks:\n  - type: tests_pass\n  - type: tests_pass\n')[0]).toMatch(/checks\.1\.name: check name 'tests_pass' is used twice/);
    expect(errorsOf('id: a@v1\ntitle: t\nchecks:\n  - type: json_schema\n    source: command\n    schema: {}\n')[0]).toMatch(/checks\.0\.command: required when source is 'command'/);
  });
});

describe('registry', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-registry-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => fs.writeFile(path.join(dir, name), text);
  const scenario = (id: string, tags: string[], extra = '') => `id: ${id}\ntitle: ${id}\ntags: [${tags.join(', ')}]\n${extra}checks:\n  - type: tests_pass\n`;

  it('discovers files recursively, resolves versions and splits off the hold-out set', async () => {
    await fs.mkdir(path.join(dir, 'nested'));
    await write('prompts.yaml', 'prompts:\n  - name: fix\n  - name: implement\n');
    await write('a1.yaml', scenario('fix.a@v1', ['prompt:fix']));
    await write('a2.yaml', scenario('fix.a@v2', ['prompt:fix']));
    await fs.writeFile(path.join(dir, 'nested', 'b.yml'), scenario('fix.b@v1', ['prompt:fix', 'area:x']));
    await write('c.yaml', scenario('fix.c@v1', ['prompt:fix']));
    await write('h.yaml', scenario('fix.h@v1', ['prompt:fix'], 'holdout: true\n'));
    const registry = await loadRegistry(dir);
    expect(registry.all()).toHaveLength(5);
    expect(registry.get('fix.a').id).toBe('fix.a@v2');
    expect(registry.get('fix.a@v1').version).toBe(1);
    expect(() => registry.get('fix.a@v9')).toThrow(/has no version v9; versions: v1, v2/);
    expect(() => registry.get('nope')).toThrow(/no scenario 'nope'/);
    expect(registry.tuning().map((s) => s.id)).toEqual(['fix.a@v2', 'fix.b@v1', 'fix.c@v1']);
    expect(registry.holdout().map((s) => s.id)).toEqual(['fix.h@v1']);
    expect(registry.withTag('area:').map((s) => s.id)).toEqual(['fix.b@v1']);
    const coverage = registry.coverage();
    // fix: 3 tuning (hold-out not counted); implement: none → coverage fails.
    expect(coverage.rows).toEqual([
      { prompt: 'fix', scenarios: ['fix.a@v2', 'fix.b@v1', 'fix.c@v1'], holdout: ['fix.h@v1'], ok: true },
      { prompt: 'implement', scenarios: [], holdout: [], ok: false },
    ]);
    expect(coverage.ok).toBe(false);
  });

  it('collects the errors of every file, and rejects duplicate ids and unknown prompt tags', async () => {
    await write('prompts.yaml', 'prompts:\n  - name: fix\n');
    await write('bad1.yaml', 'id: x@v1\ntitle: t\nchecks: []\n');
    await write('bad2.yaml', 'id: y@v1\ntitle: t\nchecks:\n  - type: nope\n');
    await expect(loadRegistry(dir)).rejects.toThrow(/bad1\.yaml:3:9: checks: needs at least 1 item\(s\)\n.*bad2\.yaml:4:11: checks\.0\.type: got 'nope'/);
    const s = parseScenario(scenario('fix.a@v1', ['prompt:fix']), 'one.yaml');
    expect(() => new Registry([s, { ...s, file: 'two.yaml' }])).toThrow(/'fix\.a@v1' is also defined in one\.yaml/);
    const unknown = new Registry([parseScenario(scenario('fix.a@v1', ['prompt:fxi']))], [{ name: 'fix', description: '' }]);
    expect(unknown.coverage().unknownPromptTags).toEqual([{ scenario: 'fix.a@v1', tag: 'prompt:fxi' }]);
  });

  it('the shipped registry is valid and covers every agent prompt with ≥ 3 scenarios', async () => {
    const registry = await loadRegistry();
    const coverage = registry.coverage();
    expect(coverage.ok).toBe(true);
    expect(coverage.rows.map((r) => r.prompt)).toEqual(['fix', 'implement', 'refactor']);
    expect(registry.holdout().length).toBeGreaterThanOrEqual(1);
    expect(registry.get('fix.whitespace-names').version).toBe(2);
  });
});
