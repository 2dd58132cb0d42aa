/**
 * `maestro spec show <change.json|spec.json> [--json]`: the spec of a change request, as Markdown.
 * `maestro spec trace <change.json|spec.json> [--tests DIR]... [--root DIR] [--json]`: each spec id with
 * the tests that cite it (`// covers: SPEC-x-1` or the id in a test title); exit 1 when an id has none.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { traceSpecInRepo } from '../../specsynth/store';
import { changeRequestSchema } from '../../core/change-request';
import { renderSpecMarkdown, renderTrace, specSchema, synthesizeSpecFromRequest } from '../../core/spec';
import type { Spec } from '../../core/stages';
import { defineCommand, UsageError } from '../command';

const USAGE = `usage: maestro spec show <change.json|spec.json> [--json]
       maestro spec trace <change.json|spec.json> [--tests DIR]... [--root DIR] [--json]   (exit 1 when an id has no test)`;

/** A spec file is used as is; a change request file is synthesized (offline, deterministic). */
function loadSpec(file: string): Spec {
  const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const asSpec = specSchema.safeParse(data);
  if (asSpec.success) return asSpec.data;
  const asRequest = changeRequestSchema.safeParse(data);
  if (asRequest.success) return synthesizeSpecFromRequest(asRequest.data);
  const issues = asRequest.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new Error(`${file} is neither a spec nor a change request (${issues.join('; ')})`);
}

export const command = defineCommand({
  name: 'spec',
  usage: USAGE,
  options: { tests: { type: 'string', multiple: true }, root: { type: 'string' }, json: { type: 'boolean', default: false } },
  async run({ values, positionals }, io) {
    const [sub, file, ...extra] = positionals;
    if (sub !== 'show' && sub !== 'trace') throw new UsageError(sub ? `unknown subcommand '${sub}'; allowed: show, trace` : 'missing subcommand show or trace');
    if (!file || extra.length) throw new UsageError(`${sub} needs exactly one <change.json|spec.json>`);
    let spec: Spec;
    try {
      spec = loadSpec(file);
    } catch (error) {
      io.print(`error: ${(error as Error).message}`);
      return 2;
    }
    if (sub === 'show') {
      io.print(values.json ? JSON.stringify(spec, null, 2) : renderSpecMarkdown(spec).trimEnd());
      return 0;
    }
    const root = path.resolve(values.root ?? process.cwd());
    const trace = await traceSpecInRepo(spec, root, values.tests ?? ['.']);
    io.print(values.json ? JSON.stringify(trace, null, 2) : renderTrace(trace));
    return trace.uncovered.length > 0 ? 1 : 0;
  },
});
