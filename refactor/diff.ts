/** Line-based unified diffs (Myers' O(ND) algorithm), in the format `git apply` and `patch -p1` read. */

type Edit = { kind: ' ' | '-' | '+'; line: string };

/** Marks a last line that has no newline: it differs from the same line with one, and prints git's `\ No newline` note. */
const NO_EOL = '\u0000';

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += NO_EOL;
  return lines;
}

/** The shortest edit script from `a` to `b`, as a list of kept, removed and added lines. */
export function diffLines(a: string[], b: string[]): Edit[] {
  // Trim the common prefix and suffix first: codemods change few lines of large files.
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const A = a.slice(prefix, a.length - suffix);
  const B = b.slice(prefix, b.length - suffix);
  const n = A.length;
  const m = B.length;
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = max === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[k - 1 + max]! < v[k + 1 + max]!) ? v[k + 1 + max]! : v[k - 1 + max]! + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) {
        x++;
        y++;
      }
      v[k + max] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk back through the trace.
  const middle: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[k - 1 + max]! < vd[k + 1 + max]!) ? k + 1 : k - 1;
    const prevX = vd[prevK + max]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) middle.push({ kind: ' ', line: A[--x]! }), y--;
    if (x === prevX) middle.push({ kind: '+', line: B[--y]! });
    else middle.push({ kind: '-', line: A[--x]! });
  }
  while (x > 0 && y > 0) middle.push({ kind: ' ', line: A[--x]! }), y--;
  middle.reverse();
  return [
    ...a.slice(0, prefix).map((line) => ({ kind: ' ' as const, line })),
    ...middle,
    ...a.slice(a.length - suffix).map((line) => ({ kind: ' ' as const, line })),
  ];
}

/**
 * A unified diff of one file. `before`/`after` undefined mean the file is created/deleted.
 * Returns '' when nothing changed.
 */
export function unifiedDiff(oldPath: string, newPath: string, before: string | undefined, after: string | undefined, context = 3): string {
  if (before === after && oldPath === newPath) return '';
  const a = splitLines(before ?? '');
  const b = splitLines(after ?? '');
  const edits = diffLines(a, b);
  const header = [
    `diff --git a/${oldPath} b/${newPath}`,
    ...(before === undefined ? ['new file mode 100644'] : after === undefined ? ['deleted file mode 100644'] : []),
    ...(oldPath !== newPath && before !== undefined && after !== undefined
      ? [`similarity index ${before === after ? 100 : 90}%`, `rename from ${oldPath}`, `rename to ${newPath}`]
      : []),
  ];
  // Nothing to show line by line (a pure rename, an empty file created or deleted): git wants the header alone.
  if (edits.every((e) => e.kind === ' ')) return header.join('\n') + '\n';
  header.push(`--- ${before === undefined ? '/dev/null' : `a/${oldPath}`}`, `+++ ${after === undefined ? '/dev/null' : `b/${newPath}`}`);
  const out = [...header];
  // Group edits into hunks with `context` lines around each change.
  const changeIdx = edits.map((e, i) => (e.kind === ' ' ? -1 : i)).filter((i) => i >= 0);
  let i = 0;
  while (i < changeIdx.length) {
    let start = Math.max(0, changeIdx[i]! - context);
    let end = Math.min(edits.length, changeIdx[i]! + context + 1);
    while (i + 1 < changeIdx.length && changeIdx[i + 1]! - context <= end) {
      i++;
      end = Math.min(edits.length, changeIdx[i]! + context + 1);
    }
    i++;
    let oldLine = 1;
    let newLine = 1;
    for (let j = 0; j < start; j++) {
      if (edits[j]!.kind !== '+') oldLine++;
      if (edits[j]!.kind !== '-') newLine++;
    }
    const hunk = edits.slice(start, end);
    const oldCount = hunk.filter((e) => e.kind !== '+').length;
    const newCount = hunk.filter((e) => e.kind !== '-').length;
    out.push(`@@ -${oldCount === 0 ? oldLine - 1 : oldLine},${oldCount} +${newCount === 0 ? newLine - 1 : newLine},${newCount} @@`);
    for (const e of hunk)
      if (e.line.endsWith(NO_EOL)) out.push(e.kind + e.line.slice(0, -1), '\\ No newline at end of file');
      else out.push(e.kind + e.line);
    start = end;
  }
  return out.join('\n') + '\n';
}
