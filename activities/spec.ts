import { storeSpec } from '../specsynth/store';
import { parseChangeRequest, type ChangeRequest } from '../core/change-request';
import {
  acceptProviderSpec,
  specSchema,
  synthesizeSpecFromRequest,
  type SpecProvider,
  type TouchedSymbols,
} from '../core/spec';
import type { Spec } from '../core/stages';
import { currentTrainId } from './context';
import { llmConfigFromEnv, openAICompatibleSpecProvider } from '../specsynth/openai';
import { createGateway } from '../llm/gateway';
import { LlmLedgerStore } from '../record/llm-ledger';

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
  /** The MAESTRO_LLM_* variables (workers/config.ts). Default: none, so offline. */
  env?: NodeJS.ProcessEnv;
  /** The record, where the LLM gateway keeps its ledger and cache; none: in memory. */
  databaseUrl?: string;
}

/**
 * The provider `createSpecActivities` uses when none is injected: the HTTP one through the LLM gateway
 * when MAESTRO_LLM_BASE_URL is set (its ledger and cache in the record when `databaseUrl` is given).
 */
export function specProviderFromEnv(env: NodeJS.ProcessEnv, databaseUrl?: string): SpecProvider | undefined {
  const config = llmConfigFromEnv(env);
  if (!config) return undefined;
  return openAICompatibleSpecProvider(config, { env, ...(databaseUrl ? { gateway: createGateway(config, env, new LlmLedgerStore({ url: databaseUrl })) } : {}) });
}


/** Spec synthesis activities: offline and deterministic by default, a configured provider's output schema-validated. */
export function createSpecActivities(deps: SpecActivityDeps = {}) {
  // A bad MAESTRO_LLM_* config fails here, at worker start, naming the variables (never their values).
  const provider = deps.provider ?? specProviderFromEnv(deps.env ?? {}, deps.databaseUrl);
  return {
    /** Given/When/Then scenarios and acceptance criteria for a change request. */
    async synthesizeSpec(changeRequest: ChangeRequest): Promise<Spec> {
      const cr = parseChangeRequest(changeRequest);
      const symbols = deps.symbolsFor ? await deps.symbolsFor(cr).catch(() => undefined) : undefined;
      // Parse the result too: a spec that breaks its own schema is a bug here, not bad input.
      const draft = specSchema.parse(synthesizeSpecFromRequest(cr, symbols ? { symbols } : {}));
      let spec = draft;
      if (provider) {
        spec = acceptProviderSpec(provider.name, cr.id, await provider.synthesize(cr, draft, { trainId: currentTrainId() }));
      }
      if (deps.artifactsDir) await storeSpec(deps.artifactsDir, spec);
      return spec;
    },
  };
}
