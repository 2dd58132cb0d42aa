import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createSpecActivities as createSpecActivitiesUnwrapped } from '../../../activities/spec';
import { asWorkerRuns } from '../../helpers/interceptors';
// Called directly, the activities run through the worker's interceptor as they would on a worker.
const createSpecActivities = (...args: Parameters<typeof createSpecActivitiesUnwrapped>) => asWorkerRuns(createSpecActivitiesUnwrapped(...args));
import { parseChangeRequest } from '../../../core/change-request';
import { acceptProviderSpec, citationsIn, offlineSpecProvider, synthesizeSpecFromRequest, traceSpec, type SpecProvider } from '../../../core/spec';
import { runCommand } from '../../../cli/command';
import { command as spec } from '../../../cli/commands/spec';
const specCommand = (argv: string[], print: (line: string) => void) => runCommand(spec, argv, { print, error: print });

const cr = parseChangeRequest({
  id: 'area-rename',
  title: 'Rename area to surface',
  intent: 'Shapes expose surface() instead of area().',
  repo: '/tmp/x',
  service: 'shapes',
  change: { kind: 'codemod', codemod: { codemod: 'rename-method', class: 'Shape', from: 'area', to: 'surface', within: ['src', 'test'] } },
});

describe('spec providers', () => {
  it('uses the offline synthesizer by default and for the offline provider', async () => {
    const { synthesizeSpec } = createSpecActivities();
    const offline = createSpecActivities({ provider: offlineSpecProvider });
    expect(await synthesizeSpec(cr)).toEqual(synthesizeSpecFromRequest(cr));
    expect(await offline.synthesizeSpec(cr)).toEqual(synthesizeSpecFromRequest(cr));
  });

  it('describes the new codemods: idempotence, type-check, declared scope, API', () => {
    const spec = synthesizeSpecFromRequest(cr);
    expect(spec.scenarios.some((s) => s.when.includes('renaming method `Shape.area` to `surface` is applied twice'))).toBe(true);
    expect(spec.acceptanceCriteria.map((a) => a.text)).toContain('Only files under `src`, `test` change');
  });

  it("accepts a configured provider's valid output, as JSON text in a fence too", async () => {
    const draft = synthesizeSpecFromRequest(cr);
    const refined = { ...draft, scenarios: [{ ...draft.scenarios[0]!, then: 'callers use surface()' }] };
    const provider: SpecProvider = { name: 'fake-llm', synthesize: async () => '```json\n' + JSON.stringify(refined) + '\n```' };
    expect(await createSpecActivities({ provider }).synthesizeSpec(cr)).toEqual(refined);
  });

  it('fails with a clear error when the model returns junk', async () => {
    const junk: SpecProvider = { name: 'fake-llm', synthesize: async () => ({ changeId: 'area-rename', title: 'x', scenarios: [{ id: 'S1', given: 'g', when: 'w', then: 't' }], acceptanceCriteria: [] }) };
    const failure = await createSpecActivities({ provider: junk }).synthesizeSpec(cr).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidProviderOutput', nonRetryable: true });
    expect((failure as Error).message).toMatch(/spec provider 'fake-llm' returned an invalid spec: scenarios\.0\.id: must look like SPEC-<change id>-<n>; acceptanceCriteria: Array must contain at least 1/);
    expect(() => acceptProviderSpec('m', 'area-rename', 'Sure! Here is your spec')).toThrow(/returned text that is not JSON/);
    expect(() => acceptProviderSpec('m', 'other', synthesizeSpecFromRequest(cr))).toThrow(/for change 'area-rename', not 'other'/);
  });
});

describe('traceability', () => {
  const spec = synthesizeSpecFromRequest(cr);
  const testFile = `describe('shapes', () => {
  // covers: SPEC-area-rename-1, AC-area-rename-1
  it('exposes surface()', () => {});
  it('AC-area-rename-2: leaves no new type error', () => {});
  it('cites a stale id SPEC-area-rename-99', () => {});
});
`;

  it('reads ids from covers comments and test titles, with the test they belong to', () => {
    expect(citationsIn('test/a.test.ts', testFile)).toEqual([
      { id: 'SPEC-area-rename-1', file: 'test/a.test.ts', line: 2, test: 'exposes surface()' },
      { id: 'AC-area-rename-1', file: 'test/a.test.ts', line: 2, test: 'exposes surface()' },
      { id: 'AC-area-rename-2', file: 'test/a.test.ts', line: 4, test: 'AC-area-rename-2: leaves no new type error' },
      { id: 'SPEC-area-rename-99', file: 'test/a.test.ts', line: 5, test: 'cites a stale id SPEC-area-rename-99' },
    ]);
  });

  it('lists each id with its tests and flags the uncovered and the unknown', () => {
    const trace = traceSpec(spec, citationsIn('test/a.test.ts', testFile));
    expect(trace.rows.find((r) => r.id === 'SPEC-area-rename-1')!.tests).toHaveLength(1);
    expect(trace.uncovered).toEqual(trace.rows.map((r) => r.id).filter((id) => !['SPEC-area-rename-1', 'AC-area-rename-1', 'AC-area-rename-2'].includes(id)));
    expect(trace.unknown.map((u) => u.id)).toEqual(['SPEC-area-rename-99']);
  });

  it('maestro spec trace prints the table and exits 1 while an id has no test; spec show prints Markdown', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maestro-spec-'));
    try {
      const change = path.join(dir, 'change.json');
      await fs.writeFile(change, JSON.stringify(cr));
      await fs.mkdir(path.join(dir, 'test'));
      await fs.writeFile(path.join(dir, 'test/a.test.ts'), testFile);
      const out: string[] = [];
      expect(await specCommand(['trace', change, '--root', dir, '--tests', 'test'], (l) => out.push(l))).toBe(1);
      const text = out.join('\n');
      expect(text).toContain(`Spec trace for change area-rename: 3/${trace().rows.length} ids covered`);
      expect(text).toMatch(/ok {3}SPEC-area-rename-1 .*\n\s+test\/a\.test\.ts:2 {2}"exposes surface\(\)"/);
      expect(text).toMatch(/NONE SPEC-area-rename-2 /);
      expect(text).toContain('unknown id SPEC-area-rename-99 cited at test/a.test.ts:5');
      // Cover everything: exit 0.
      await fs.writeFile(path.join(dir, 'test/b.test.ts'), `// covers: ${trace().uncovered.join(', ')}\n`);
      expect(await specCommand(['trace', change, '--root', dir, '--tests', 'test'], () => undefined)).toBe(0);
      const shown: string[] = [];
      expect(await specCommand(['show', change], (l) => shown.push(l))).toBe(0);
      expect(shown.join('\n')).toMatch(/^# Spec: Rename area to surface\n[\s\S]*### SPEC-area-rename-1/);
      expect(await specCommand(['show', path.join(dir, 'test/a.test.ts')], () => undefined)).toBe(2);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    function trace() {
      return traceSpec(spec, citationsIn('test/a.test.ts', testFile));
    }
  });
});
