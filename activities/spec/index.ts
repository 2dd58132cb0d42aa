import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parseChangeRequest, type ChangeRequest } from '../../core/change-request';
import { acceptProviderSpec, citationsIn, specSchema, SpecProviderError, synthesizeSpecFromRequest, traceSpec, type SpecIdCitation, type SpecProvider, type SpecTrace } from '../../core/spec';
import type { Spec } from '../../core/stages';
import { ValidationError } from '../../core/validation';

/** Bad input never becomes good by retrying: fail the activity for good, naming the bad fields. */
function rejectInvalidInput<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ValidationError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
    throw err;
  }
}

export interface SpecActivityDeps {
  /** A configured model; without one the offline synthesizer is used (deterministic). */
  provider?: SpecProvider;
}

/** Spec synthesis activities: offline and deterministic by default, a configured provider's output schema-validated. */
export function createSpecActivities(deps: SpecActivityDeps = {}) {
  return {
    /** Given/When/Then scenarios and acceptance criteria for a change request. */
    async synthesizeSpec(changeRequest: ChangeRequest): Promise<Spec> {
      const cr = rejectInvalidInput(() => parseChangeRequest(changeRequest));
      // Parse the result too: a spec that breaks its own schema is a bug here, not bad input.
      const draft = specSchema.parse(synthesizeSpecFromRequest(cr));
      if (!deps.provider) return draft;
      try {
        return acceptProviderSpec(deps.provider.name, cr.id, await deps.provider.synthesize(cr, draft));
      } catch (error) {
        if (error instanceof SpecProviderError) throw ApplicationFailure.nonRetryable(error.message, 'InvalidProviderOutput');
        throw error;
      }
    },
  };
}

const TEST_FILE = /\.(?:test|spec)\.[cm]?[jt]sx?$/;

/** Every spec id cited by the test files under `dirs` (node_modules excluded), paths relative to `root`. */
export async function collectCitations(root: string, dirs: string[]): Promise<SpecIdCitation[]> {
  const citations: SpecIdCitation[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['node_modules', '.git', 'dist', '.maestro'].includes(entry.name)) await walk(full);
      } else if (TEST_FILE.test(entry.name)) {
        const rel = path.relative(root, full).split(path.sep).join('/');
        citations.push(...citationsIn(rel, await fs.readFile(full, 'utf8')));
      }
    }
  };
  for (const dir of dirs) await walk(path.resolve(root, dir));
  return citations;
}

/** The trace of `spec` against the tests under `dirs`: each id with its tests, uncovered ids flagged. */
export async function traceSpecInRepo(spec: Spec, root: string, dirs: string[] = ['.']): Promise<SpecTrace> {
  return traceSpec(spec, await collectCitations(root, dirs));
}
