import { addedLines, lineRuns, removedLines } from '../../../core/diff';

const diff = [
  'diff --git a/src/a.ts b/src/a.ts',
  '--- a/src/a.ts',
  '+++ b/src/a.ts',
  '@@ -2,4 +2,5 @@',
  ' keep',
  '-old one',
  '-old two',
  '+new one',
  '+new two',
  '+new three',
  ' keep',
  'diff --git a/src/gone.ts b/src/gone.ts',
  '--- a/src/gone.ts',
  '+++ /dev/null',
  '@@ -1,1 +0,0 @@',
  '-bye',
  '',
].join('\n');

describe('the two sides of a diff', () => {
  it('added lines carry new-side numbers; removed (and rewritten) lines old-side numbers, deleted files included', () => {
    expect(addedLines(diff)).toEqual([
      { file: 'src/a.ts', line: 3, text: 'new one' },
      { file: 'src/a.ts', line: 4, text: 'new two' },
      { file: 'src/a.ts', line: 5, text: 'new three' },
    ]);
    expect(removedLines(diff)).toEqual([
      { file: 'src/a.ts', line: 3, text: 'old one' },
      { file: 'src/a.ts', line: 4, text: 'old two' },
      { file: 'src/gone.ts', line: 1, text: 'bye' },
    ]);
  });

  it('lineRuns folds each file into sorted runs of consecutive lines, duplicates ignored', () => {
    expect(lineRuns([{ file: 'b', line: 9 }, { file: 'a', line: 1 }, { file: 'b', line: 7 }, { file: 'b', line: 8 }, { file: 'b', line: 8 }, { file: 'b', line: 2 }])).toEqual(
      new Map([
        ['b', [[2, 2], [7, 9]]],
        ['a', [[1, 1]]],
      ]),
    );
  });
});
