import { formatLines } from '../../../../evals/checks/diff-coverage';

describe('formatLines', () => {
  it('folds consecutive lines into ranges, per file, in line order', () => {
    const lines = [
      { file: 'src/a.ts', line: 7 },
      { file: 'src/a.ts', line: 3 },
      { file: 'src/b.ts', line: 1 },
      { file: 'src/a.ts', line: 5 },
      { file: 'src/a.ts', line: 6 },
    ];
    expect(formatLines(lines)).toBe('src/a.ts:3, 5-7; src/b.ts:1');
    expect(formatLines([])).toBe('');
  });
});
