/**
 * Line coverage of a test run, from Node's built-in V8 coverage: with NODE_V8_COVERAGE set, every node process
 * the tests start (tsx's child, each `node --test` file) writes its block coverage there on exit. v8-to-istanbul
 * maps it to source lines, through the source map that node keeps for each transpiled script (the output's
 * `source-map-cache`, filled by tsx and any loader that emits source maps), and istanbul-lib-coverage merges
 * the processes. Only the files asked for are converted: the check needs the changed ones, not the whole tree.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eachMapping, TraceMap, type SourceMapInput } from '@jridgewell/trace-mapping';
import { createCoverageMap, type CoverageMapData } from 'istanbul-lib-coverage';
import v8ToIstanbul from 'v8-to-istanbul';
import type { Profiler } from 'node:inspector';

/** The variable that makes node write V8 coverage into a directory. */
export const V8_COVERAGE_ENV = 'NODE_V8_COVERAGE';

interface V8CoverageFile {
  result: { url: string; functions: Profiler.FunctionCoverage[] }[];
  'source-map-cache'?: Record<string, { lineLengths?: number[]; data?: SourceMapInput | null }>;
}

/** Per repository-relative file the tests loaded: code line (1-based) → how often it ran. */
export type LineCoverage = Map<string, Map<number, number>>;

/** Blank or only a comment: never code, whatever a coverage tool says about it. */
export function isCodeText(text: string): boolean {
  const t = text.trim();
  return t !== '' && !/^(\/\/|\/\*|\*)/.test(t);
}

/**
 * Reads every coverage file under `coverageDir` and returns the line coverage of `files` (relative to `root`,
 * the work tree the tests ran in). A file no test process loaded is absent. With a source map, only lines
 * that produced code count (a TypeScript `interface` line never runs); every line must also pass `isCodeText`.
 */
export async function readLineCoverage(coverageDir: string, root: string, files: readonly string[]): Promise<LineCoverage> {
  const realRoot = await fs.realpath(root);
  const wanted = new Set(files);
  const map = createCoverageMap({});
  const codeLines = new Map<string, Set<number>>();
  const texts = new Map<string, string[]>();
  const names = (await fs.readdir(coverageDir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  for (const name of names) {
    const data = JSON.parse(await fs.readFile(path.join(coverageDir, name), 'utf8')) as V8CoverageFile;
    for (const script of data.result) {
      if (!script.url.startsWith('file://')) continue;
      const absolute = fileURLToPath(script.url);
      const file = path.relative(realRoot, absolute).split(path.sep).join('/');
      if (!wanted.has(file)) continue;
      const original = await fs.readFile(absolute, 'utf8');
      if (!texts.has(file)) texts.set(file, original.split(/\r?\n/));
      const cached = data['source-map-cache']?.[script.url];
      const sourcemap = cached?.data ?? undefined;
      // Node keeps the generated code's line lengths, not its text: v8-to-istanbul only needs the shape.
      const generated = cached?.lineLengths?.map((n) => ''.padEnd(n, '.')).join('\n');
      const converter =
        sourcemap && generated !== undefined
          ? v8ToIstanbul(absolute, 0, { source: generated, originalSource: original, sourceMap: { sourcemap } })
          : v8ToIstanbul(absolute, 0, { source: original });
      await converter.load();
      converter.applyCoverage(script.functions);
      map.merge(converter.toIstanbul() as CoverageMapData);
      if (sourcemap && !codeLines.has(file)) {
        const lines = new Set<number>();
        eachMapping(new TraceMap(sourcemap), (m) => {
          if (m.originalLine !== null) lines.add(m.originalLine);
        });
        codeLines.set(file, lines);
      }
    }
  }
  const out: LineCoverage = new Map();
  for (const absolute of map.files()) {
    const file = path.relative(realRoot, absolute).split(path.sep).join('/');
    const mapped = codeLines.get(file);
    const text = texts.get(file) ?? [];
    const lines = new Map<number, number>();
    for (const [line, hits] of Object.entries(map.fileCoverageFor(absolute).getLineCoverage())) {
      const n = Number(line);
      if ((!mapped || mapped.has(n)) && isCodeText(text[n - 1] ?? '')) lines.set(n, hits);
    }
    out.set(file, lines);
  }
  return out;
}
