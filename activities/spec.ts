import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parseChangeRequest, type ChangeRequest } from '../core/change-request';
import {
  acceptProviderSpec,
  citationsIn,
  renderSpecMarkdown,
  specSchema,
  SpecProviderError,
  synthesizeSpecFromRequest,
  traceSpec,
  type SpecIdCitation,
  type SpecProvider,
  type SpecTrace,
  type TouchedSymbols,
} from '../core/spec';
import type { Spec } from '../core/stages';
import { ValidationError } from '../core/validation';
import { llmConfigFromEnv, openAICompatibleSpecProvider, SpecProviderRejectedError, SpecProviderUnavailableError } from '../specsynth/openai';

export { llmConfigFromEnv, llmConfigSchema, openAICompatibleSpecProvider, parseLlmConfig, LlmConfigError, SpecProviderRejectedError, SpecProviderUnavailableError } from '../specsynth/openai';

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
  /**
   * A configured model. Default: the OpenAI-compatible chat/completions provider when MAESTRO_LLM_BASE_URL
   * is set (see ./openai.ts), else none: the offline synthesizer (deterministic).
   */
  provider?: SpecProvider;
  /** When set, each spec is stored as `<artifactsDir>/<changeId>/spec.json` and `spec.md` (the PR text). */
  artifactsDir?: string;
  /**
   * The code graph's view of the touched files' exported symbols and their dependents (see ./graph.ts for
   * the adapter over activities/codegraph). Default: none. A failing lookup is skipped: the graph is optional.
   */
  symbolsFor?: (changeRequest: ChangeRequest) => Promise<TouchedSymbols[]>;
  /** Where MAESTRO_LLM_* are read from (tests). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The provider `createSpecActivities` uses when none is injected: the HTTP one when MAESTRO_LLM_BASE_URL is set. */
export function specProviderFromEnv(env: NodeJS.ProcessEnv = process.env): SpecProvider | undefined {
  const config = llmConfigFromEnv(env);
  return config ? openAICompatibleSpecProvider(config) : undefined;
}

/** Writes a file only when its content differs, through a temporary file and a rename (never half-written). */
async function writeIfChanged(file: string, content: string): Promise<void> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return;
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}

/** Stores a spec with the run: `<dir>/<changeId>/spec.json` and its Markdown `spec.md`; idempotent. */
export async function storeSpec(artifactsDir: string, spec: Spec): Promise<{ json: string; markdown: string }> {
  const dir = path.join(artifactsDir, spec.changeId); // changeId is schema-checked: [a-z0-9-], no separators
  await fs.mkdir(dir, { recursive: true });
  const json = path.join(dir, 'spec.json');
  const markdown = path.join(dir, 'spec.md');
  await writeIfChanged(json, JSON.stringify(spec, null, 2) + '\n');
  await writeIfChanged(markdown, renderSpecMarkdown(spec));
  return { json, markdown };
}

/** Spec synthesis activities: offline and deterministic by default, a configured provider's output schema-validated. */
export function createSpecActivities(deps: SpecActivityDeps = {}) {
  // A bad MAESTRO_LLM_* config fails here, at worker start, naming the variables (never their values).
  const provider = deps.provider ?? specProviderFromEnv(deps.env ?? process.env);
  return {
    /** Given/When/Then scenarios and acceptance criteria for a change request. */
    async synthesizeSpec(changeRequest: ChangeRequest): Promise<Spec> {
      const cr = rejectInvalidInput(() => parseChangeRequest(changeRequest));
      const symbols = deps.symbolsFor ? await deps.symbolsFor(cr).catch(() => undefined) : undefined;
      // Parse the result too: a spec that breaks its own schema is a bug here, not bad input.
      const draft = specSchema.parse(synthesizeSpecFromRequest(cr, symbols ? { symbols } : {}));
      let spec = draft;
      if (provider) {
        try {
          spec = acceptProviderSpec(provider.name, cr.id, await provider.synthesize(cr, draft));
        } catch (error) {
          if (error instanceof SpecProviderError) throw ApplicationFailure.nonRetryable(error.message, 'InvalidProviderOutput');
          if (error instanceof SpecProviderRejectedError) throw ApplicationFailure.nonRetryable(error.message, 'SpecProviderRejected');
          if (error instanceof SpecProviderUnavailableError) throw ApplicationFailure.retryable(error.message, 'SpecProviderUnavailable');
          throw error;
        }
      }
      if (deps.artifactsDir) await storeSpec(deps.artifactsDir, spec);
      return spec;
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
