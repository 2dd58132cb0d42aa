/** Unified diffs (jsdiff) with git's extended headers, in the format `git apply` and `patch -p1` read. */
import { diffArrays, FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';

type Edit = { kind: ' ' | '-' | '+'; line: string };

/** The shortest edit script from `a` to `b`, as a list of kept, removed and added lines. */
export function diffLines(a: string[], b: string[]): Edit[] {
  return diffArrays(a, b).flatMap((c) => c.value.map((line) => ({ kind: c.added ? ('+' as const) : c.removed ? ('-' as const) : (' ' as const), line })));
}

/**
 * A unified diff of one file. `before`/`after` undefined mean the file is created/deleted.
 * Returns '' when nothing changed.
 */
export function unifiedDiff(oldPath: string, newPath: string, before: string | undefined, after: string | undefined, context = 3): string {
  if (before === after && oldPath === newPath) return '';
  const header = [
    `diff --git a/${oldPath} b/${newPath}`,
    ...(before === undefined ? ['new file mode 100644'] : after === undefined ? ['deleted file mode 100644'] : []),
    ...(oldPath !== newPath && before !== undefined && after !== undefined
      ? [`similarity index ${before === after ? 100 : 90}%`, `rename from ${oldPath}`, `rename to ${newPath}`]
      : []),
  ];
  const patch = structuredPatch(before === undefined ? '/dev/null' : `a/${oldPath}`, after === undefined ? '/dev/null' : `b/${newPath}`, before ?? '', after ?? '', undefined, undefined, { context });
  // Nothing to show line by line (a pure rename, an empty file created or deleted): git wants the header alone.
  if (patch.hunks.length === 0) return header.join('\n') + '\n';
  return `${header.join('\n')}\n${formatPatch(patch, FILE_HEADERS_ONLY)}`;
}
