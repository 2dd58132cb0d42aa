/**
 * Prompt shapes and the templates distilled from them (core/llm-templates.ts): the slots on real commit
 * subjects (unjs/ofetch's history, bench/llm), and properties of shapes and of the distillation.
 */
import fc from 'fast-check';
import { distilTemplate, promptShape } from '../../../core/llm-templates';

test('the variable parts of recurring commit subjects become slots, so one task has one shape', () => {
  expect(promptShape('chore(deps): update all non-major dependencies (#1234)')).toBe('chore(deps): update all non-major dependencies (<ref>)');
  expect(promptShape('update pnpm to 8.6.12 (#55)')).toBe(promptShape('update pnpm to 9.0.0-rc.1 (#301)'));
  expect(promptShape('update actions/checkout action to v4 (#9)')).toBe('update <name> action to <ver> (<ref>)');
  expect(promptShape('update devDependency typescript to ^5.2.2 (#301)')).toBe('update devdependency typescript to <ver> (<ref>)');
  expect(promptShape('fix 3 bugs in src/fetch.ts, see https://example.com/x?y=1 and abc1234f')).toBe('fix <num> bugs in <name>, see <url> and <hash>');
  expect(promptShape('rename `fetchRaw` to "raw"')).toBe('rename <code> to <str>');
  // Apostrophes and words that merely look hexadecimal stay.
  expect(promptShape("don't retry when it's aborted by a defaced cafe")).toBe("don't retry when it's aborted by a defaced cafe");
  // The package named in the task is the task: a different dependency is a different shape.
  expect(promptShape('update devDependency eslint to ^8.1.0')).not.toBe(promptShape('update devDependency vitest to ^8.1.0'));
});

const words = fc.array(fc.constantFrom('update', 'fix', 'add', 'remove', 'retry', 'option', 'types', 'to', 'for', 'dependency', 'pnpm', 'the'), { minLength: 1, maxLength: 6 }).map((w) => w.join(' '));
const version = fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30), fc.boolean()).map(([a, b, c, v]) => `${v ? 'v' : ''}${a}.${b}.${c}`);

test('property: prompts that differ only in versions and issue numbers have one shape', () => {
  fc.assert(
    fc.property(words, version, version, fc.integer({ min: 1, max: 99_999 }), fc.integer({ min: 1, max: 99_999 }), (text, v1, v2, r1, r2) => {
      expect(promptShape(`${text} ${v1} (#${r1})`)).toBe(promptShape(`${text} ${v2} (#${r2})`));
    }),
  );
});

test('property: a shape ignores case and runs of whitespace, and shaping a shape changes nothing', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (text) => {
      const shape = promptShape(text);
      expect(promptShape(`  ${text.toUpperCase().replace(/ /g, '   ')} `)).toBe(promptShape(text.toUpperCase()));
      expect(promptShape(shape)).toBe(shape);
    }),
  );
});

const agreeByFirstWord = (a: string, b: string) => a.trim().split(/\s+/)[0] === b.trim().split(/\s+/)[0];

test('a template needs enough answers, all agreeing; it serves the first', () => {
  expect(distilTemplate(['chore', 'chore'], agreeByFirstWord, 3)).toEqual({ serve: false, reason: '2 answer(s) to this shape, 3 needed' });
  expect(distilTemplate(['chore', 'chore lockfile', 'chore'], agreeByFirstWord, 3)).toEqual({ serve: true, answer: 'chore' });
  expect(distilTemplate(['chore', 'fix', 'chore', 'feat'], agreeByFirstWord, 3)).toEqual({ serve: false, reason: '2 of 4 answers to this shape disagree' });
});

test('property: a template serves exactly when there are at least minSupport answers and all agree, and serves one of them', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('chore', 'fix', 'feat'), { maxLength: 8 }), fc.integer({ min: 1, max: 6 }), (answers, minSupport) => {
      const verdict = distilTemplate(answers, (a, b) => a === b, minSupport);
      expect(verdict.serve).toBe(answers.length >= minSupport && new Set(answers).size === 1);
      if (verdict.serve) expect(answers).toContain(verdict.answer);
    }),
  );
});

test('property: a disagreeing answer added to a shape never leaves a template serving', () => {
  fc.assert(
    fc.property(fc.array(fc.constant('chore'), { minLength: 3, maxLength: 8 }), fc.nat(8), (answers, at) => {
      const withDissent: string[] = [...answers];
      withDissent.splice(Math.min(at, answers.length), 0, 'fix');
      expect(distilTemplate(answers, (a, b) => a === b, 3).serve).toBe(true);
      expect(distilTemplate(withDissent, (a, b) => a === b, 3).serve).toBe(false);
    }),
  );
});
