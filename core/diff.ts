/** Reading unified diffs (jsdiff's parser): which new-side lines each file's hunks cover or add, and which old-side lines they remove. */
import { parsePatch } from 'diff';

/** Each file a diff leaves behind (deleted files have none), or had before (`side` 'old'), with its hunks; `a/`, `b/` prefixes dropped. */
function filePatches(diff: string, side: 'new' | 'old' = 'new') {
  return parsePatch(diff).flatMap((p) => {
    const target = (side === 'new' ? p.newFileName : p.oldFileName)?.trim();
    return target === undefined || target === '/dev/null' ? [] : [{ file: target.replace(side === 'new' ? /^b\// : /^a\//, ''), hunks: p.hunks }];
  });
}

/** New-side line ranges per file (a hunk that adds nothing still marks its position). */
export function touchedLines(diff: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const { file, hunks } of filePatches(diff)) {
    const list = out.get(file) ?? [];
    // jsdiff moves an empty side's start past the line the header names; the header's own number is wanted.
    for (const h of hunks) list.push(h.newLines === 0 ? [h.newStart - 1, h.newStart - 1] : [h.newStart, h.newStart + h.newLines - 1]);
    if (list.length > 0) out.set(file, list);
  }
  return out;
}

/** The lines one side of a unified diff has alone ('+' lines on the new side, '-' lines on the old), numbered on that side. */
function sideLines(diff: string, side: 'new' | 'old'): { file: string; line: number; text: string }[] {
  const mark = side === 'new' ? '+' : '-';
  const out: { file: string; line: number; text: string }[] = [];
  for (const { file, hunks } of filePatches(diff, side))
    for (const h of hunks) {
      let line = side === 'new' ? h.newStart : h.oldStart;
      for (const raw of h.lines) {
        if (raw.startsWith(mark)) out.push({ file, line: line++, text: raw.slice(1) });
        else if (raw.startsWith(' ')) line++;
      }
    }
  return out;
}

/** The lines a unified diff adds, with the file and the new line number of each. */
export const addedLines = (diff: string): { file: string; line: number; text: string }[] => sideLines(diff, 'new');

/** The lines a unified diff removes (or rewrites), with the file and the old line number of each. */
export const removedLines = (diff: string): { file: string; line: number; text: string }[] => sideLines(diff, 'old');

/** Line numbers per file, each file's folded into sorted runs of consecutive lines `[first, last]`; files in first-seen order. */
export function lineRuns(lines: readonly { file: string; line: number }[]): Map<string, [number, number][]> {
  const byFile = new Map<string, Set<number>>();
  for (const { file, line } of lines) byFile.set(file, (byFile.get(file) ?? new Set<number>()).add(line));
  const runs = new Map<string, [number, number][]>();
  for (const [file, set] of byFile) {
    const sorted = [...set].sort((a, b) => a - b);
    const list: [number, number][] = [];
    for (const n of sorted) {
      const last = list[list.length - 1];
      if (last && n === last[1] + 1) last[1] = n;
      else list.push([n, n]);
    }
    runs.set(file, list);
  }
  return runs;
}
