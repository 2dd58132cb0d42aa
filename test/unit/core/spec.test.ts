import { ApplicationFailure } from '@temporalio/common';
import { createSpecActivities as createSpecActivitiesUnwrapped } from '../../../activities/spec';
import { asWorkerRuns } from '../../helpers/interceptors';
// Called directly, the activities run through the worker's interceptor as they would on a worker.
const createSpecActivities = (...args: Parameters<typeof createSpecActivitiesUnwrapped>) => asWorkerRuns(createSpecActivitiesUnwrapped(...args));
import { parseChangeRequest, type ChangeRequestInput } from '../../../core/change-request';
import { filesTouchedByDiff, intentStatements, renderSpecMarkdown, specSchema, synthesizeSpecFromRequest } from '../../../core/spec';

const PATCH = `diff --git a/src/greet.ts b/src/greet.ts
index 1111111..2222222 100644
--- a/src/greet.ts
+++ b/src/greet.ts
@@ -1,3 +1,3 @@
 export function greet(name: string) {
-  return 'hi ' + name;
+  return 'Hello, ' + name;
 }
diff --git a/src/legacy.ts b/src/legacy.ts
deleted file mode 100644
index 3333333..0000000
--- a/src/legacy.ts
+++ /dev/null
@@ -1,2 +0,0 @@
--- a removed line that looks like a header
-export const legacy = 1;
diff --git a/docs/logo.png b/docs/logo.png
Binary files a/docs/logo.png and b/docs/logo.png differ
`;

function request(overrides: Partial<ChangeRequestInput> = {}) {
  return parseChangeRequest({
    id: 'greet-42',
    title: 'Polite greeting',
    intent: 'Greet people politely. Keep the function signature.\n\n- log nothing new\n- e.g. "Hello, Ada" for Ada',
    repo: '/tmp/example',
    service: 'hello',
    change: { kind: 'patch', diff: PATCH },
    protectedPaths: ['infra', 'src/auth/**'],
    ...overrides,
  });
}

describe('intentStatements', () => {
  it('splits prose into sentences and bullets into items, dropping trailing punctuation and headings', () => {
    expect(intentStatements('# Goal\nMake it fast. Keep it safe!\n\n- one;\n* two\n1. three\nSee e.g. the docs.')).toEqual([
      'Make it fast',
      'Keep it safe',
      'one',
      'two',
      'three',
      'See e.g. the docs',
    ]);
  });

  it('returns nothing for punctuation-only text', () => {
    expect(intentStatements(' ...\n- !')).toEqual([]);
  });
});

describe('filesTouchedByDiff', () => {
  it('names modified, deleted and binary files once each, ignoring header-like lines inside hunks', () => {
    expect(filesTouchedByDiff(PATCH)).toEqual(['src/greet.ts', 'src/legacy.ts', 'docs/logo.png']);
  });

  it('reads plain unified diffs without git headers, including added files and timestamps', () => {
    const diff = '--- /dev/null\n+++ b/new/file.ts\t2024-01-01 00:00:00\n@@ -0,0 +1 @@\n+x\n--- a/old.ts\n+++ b/old.ts\n@@ -1 +1 @@\n-a\n+b\n';
    expect(filesTouchedByDiff(diff)).toEqual(['new/file.ts', 'old.ts']);
  });
});

describe('synthesizeSpecFromRequest', () => {
  it('gives one scenario and criterion per intent statement, with stable ids', () => {
    const spec = synthesizeSpecFromRequest(request());
    expect(spec.changeId).toBe('greet-42');
    expect(spec.scenarios.map((s) => s.id)).toEqual(spec.scenarios.map((_, i) => `SPEC-greet-42-${i + 1}`));
    expect(spec.acceptanceCriteria.map((a) => a.id)).toEqual(spec.acceptanceCriteria.map((_, i) => `AC-greet-42-${i + 1}`));
    expect(spec.scenarios.slice(0, 4).map((s) => s.then)).toEqual([
      'Greet people politely',
      'Keep the function signature',
      'log nothing new',
      'e.g. "Hello, Ada" for Ada',
    ]);
    expect(spec.acceptanceCriteria.slice(0, 4).map((a) => a.text)).toEqual(spec.scenarios.slice(0, 4).map((s) => s.then));
    expect(specSchema.safeParse(spec).success).toBe(true);
  });

  it('is deterministic', () => {
    expect(synthesizeSpecFromRequest(request())).toEqual(synthesizeSpecFromRequest(request()));
  });

  it('names the files a patch touches and every protected path', () => {
    const spec = synthesizeSpecFromRequest(request());
    const text = JSON.stringify(spec);
    for (const file of ['src/greet.ts', 'src/legacy.ts', 'docs/logo.png']) expect(text).toContain(file);
    expect(spec.scenarios.some((s) => s.then.includes('`infra`') && s.then.includes('owners approve'))).toBe(true);
    expect(spec.acceptanceCriteria.some((a) => a.text.includes('`src/auth/**`'))).toBe(true);
  });

  it('describes a rename codemod by its declared symbols and scope', () => {
    const spec = synthesizeSpecFromRequest(
      request({ change: { kind: 'codemod', codemod: { codemod: 'rename-symbol', from: 'getUser', to: 'fetchUser', scope: 'src/api' } } }),
    );
    const renameScenario = spec.scenarios.find((s) => s.when.includes('renames'));
    expect(renameScenario?.then).toBe('no reference to `getUser` remains under `src/api` and every former reference now uses `fetchUser`');
    expect(spec.acceptanceCriteria.some((a) => a.text.includes('`getUser`') && a.text.includes('`fetchUser`'))).toBe(true);
  });

  it('describes a literal replacement by its file and values', () => {
    const spec = synthesizeSpecFromRequest(
      request({ change: { kind: 'codemod', codemod: { codemod: 'replace-literal', file: 'src/config.ts', from: '30', to: '60' } } }),
    );
    expect(spec.scenarios.some((s) => s.given.includes('`src/config.ts` contains `30`') && s.then.includes('`60`'))).toBe(true);
  });

  it('falls back to the title when the intent has no statements', () => {
    const spec = synthesizeSpecFromRequest(request({ intent: '...' }));
    expect(spec.scenarios[0]!.then).toBe('Polite greeting');
  });
});

describe('specSchema', () => {
  it('rejects ids that do not carry the change id, and duplicates', () => {
    const spec = synthesizeSpecFromRequest(request());
    const wrongId = { ...spec, scenarios: [{ ...spec.scenarios[0]!, id: 'SPEC-other-1' }] };
    const duplicate = { ...spec, acceptanceCriteria: [spec.acceptanceCriteria[0]!, spec.acceptanceCriteria[0]!] };
    const wrong = specSchema.safeParse(wrongId);
    const dup = specSchema.safeParse(duplicate);
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0]?.path).toEqual(['scenarios', 0, 'id']);
    expect(dup.success).toBe(false);
    expect(dup.error?.issues[0]?.path).toEqual(['acceptanceCriteria', 1, 'id']);
  });
});

describe('renderSpecMarkdown', () => {
  it('lists every scenario as Given/When/Then and every criterion as a checkbox', () => {
    const spec = synthesizeSpecFromRequest(request());
    const md = renderSpecMarkdown(spec);
    expect(md.startsWith('# Spec: Polite greeting\n')).toBe(true);
    for (const s of spec.scenarios) {
      expect(md).toContain(`### ${s.id}\n\n- **Given** ${s.given}\n- **When** ${s.when}\n- **Then** ${s.then}\n`);
    }
    for (const a of spec.acceptanceCriteria) expect(md).toContain(`- [ ] **${a.id}**: ${a.text}\n`);
  });
});

describe('synthesizeSpec activity', () => {
  const { synthesizeSpec } = createSpecActivities();

  it('returns the synthesized spec', async () => {
    await expect(synthesizeSpec(request())).resolves.toEqual(synthesizeSpecFromRequest(request()));
  });

  it('fails without retry on an invalid change request, naming the field', async () => {
    const bad = { ...request(), id: 'Not Valid' };
    const failure = await synthesizeSpec(bad).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect((failure as Error).message).toContain('id:');
  });
});
