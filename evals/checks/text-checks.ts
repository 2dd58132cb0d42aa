/** Checks on a text subject: exact, contains, regex, json_schema, semantic. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { git } from '../../io/git';
import type { CheckSpec } from '../dsl';
import { EMBEDDING_PROVIDER_NAME, embeddingProviderFromEnv } from '../semantic';
import { fillTestArgv, runCommand } from '../test-runner';
import type { CheckContext, CheckImpl, CheckOutcome } from './types';

type TextSpec = Extract<CheckSpec, { source: string }>;

export class UnverifiedSource extends Error {}

/** Reads the subject a text check is about; UnverifiedSource when there is none (e.g. no agent output). */
export async function readSource(spec: TextSpec, ctx: CheckContext): Promise<string> {
  const source = spec.source;
  if (source === 'diff') return (await git(ctx.repo, ['diff', '--no-renames', ctx.baseSha, ctx.candidateSha])).stdout;
  if (source === 'commit_message') return (await git(ctx.repo, ['log', '-1', '--format=%B', ctx.candidateSha])).stdout.trim();
  if (source === 'output') {
    if (ctx.output === undefined) throw new UnverifiedSource('no agent output: no agent is configured for this run');
    return ctx.output;
  }
  if (source === 'command') {
    const run = await runCommand(fillTestArgv(spec.command!, require.resolve('tsx/cli')), ctx.workDir, Math.max(1, ctx.timeLeftMs()), ctx.env);
    if (run.timedOut) throw new Error(`command ${spec.command!.join(' ')} timed out`);
    return run.output;
  }
  const relative = source.slice('file:'.length);
  const resolved = path.resolve(ctx.workDir, relative);
  if (path.relative(ctx.workDir, resolved).startsWith('..')) throw new Error(`${relative} is outside the work dir`);
  try {
    return await fs.readFile(resolved, 'utf8');
  } catch {
    throw new Error(`file ${relative} does not exist in the candidate`);
  }
}

const preview = (text: string, max = 80): string => JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);

function withSource<T extends TextSpec>(body: (spec: T, text: string, ctx: CheckContext) => Promise<CheckOutcome> | CheckOutcome): CheckImpl<T['type']> {
  return (async (spec: T, ctx: CheckContext) => {
    let text: string;
    try {
      text = await readSource(spec, ctx);
    } catch (error) {
      if (error instanceof UnverifiedSource) return { score: 0, passed: false, status: 'unverified', explanation: error.message };
      return { score: 0, passed: false, status: 'error', explanation: `cannot read ${spec.source}: ${(error as Error).message}` };
    }
    return body(spec, text, ctx);
  }) as unknown as CheckImpl<T['type']>;
}

export const exact = withSource<Extract<CheckSpec, { type: 'exact' }>>((spec, text) => {
  const got = spec.trim ? text.trim() : text;
  const want = spec.trim ? spec.expected.trim() : spec.expected;
  return got === want
    ? { score: 1, explanation: `${spec.source} equals the expected text` }
    : { score: 0, explanation: `${spec.source} is ${preview(got)}, expected ${preview(want)}` };
});

export const contains = withSource<Extract<CheckSpec, { type: 'contains' }>>((spec, text) => {
  const hay = spec.case_sensitive ? text : text.toLowerCase();
  const found = spec.values.filter((v) => hay.includes(spec.case_sensitive ? v : v.toLowerCase()));
  const missing = spec.values.filter((v) => !found.includes(v));
  const n = spec.values.length;
  if (spec.match === 'all')
    return { score: found.length / n, passed: missing.length === 0, explanation: missing.length ? `${spec.source} lacks ${missing.map((v) => preview(v)).join(', ')}` : `${spec.source} contains all ${n} value(s)` };
  if (spec.match === 'any')
    return { score: found.length ? 1 : 0, explanation: found.length ? `${spec.source} contains ${preview(found[0])}` : `${spec.source} contains none of ${spec.values.map((v) => preview(v)).join(', ')}` };
  return { score: 1 - found.length / n, passed: found.length === 0, explanation: found.length ? `${spec.source} must not contain ${found.map((v) => preview(v)).join(', ')}` : `${spec.source} contains none of the forbidden values` };
});

export const regex = withSource<Extract<CheckSpec, { type: 'regex' }>>((spec, text) => {
  const match = new RegExp(spec.pattern, spec.flags).exec(text);
  return match
    ? { score: 1, explanation: `${spec.source} matches /${spec.pattern}/${spec.flags} at ${preview(match[0], 40)}` }
    : { score: 0, explanation: `${spec.source} does not match /${spec.pattern}/${spec.flags}` };
});

const ajv = new Ajv({ allErrors: true, strict: false });
export const jsonSchema = withSource<Extract<CheckSpec, { type: 'json_schema' }>>((spec, text) => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { score: 0, explanation: `${spec.source} is not JSON: ${(error as Error).message}` };
  }
  let validate;
  try {
    validate = ajv.compile(spec.schema);
  } catch (error) {
    return { score: 0, passed: false, status: 'error', explanation: `the schema is invalid: ${(error as Error).message}` };
  }
  if (validate(value)) return { score: 1, explanation: `${spec.source} conforms to the schema` };
  const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
  return { score: 0, explanation: `${spec.source} violates the schema: ${errors.slice(0, 5).join('; ')}` };
});

export const semantic = withSource<Extract<CheckSpec, { type: 'semantic' }>>(async (spec, text, ctx) => {
  // Injected providers first; `embedding` otherwise comes from MAESTRO_LLM_BASE_URL + MAESTRO_LLM_EMBEDDING_MODEL
  // (the runner's process env, not the scrubbed sandbox env). Offline (lexical) stays the default.
  let provider = ctx.similarity.get(spec.provider);
  if (!provider && spec.provider === EMBEDDING_PROVIDER_NAME) {
    try {
      provider = embeddingProviderFromEnv();
    } catch (error) {
      return { score: 0, passed: false, status: 'error', explanation: (error as Error).message };
    }
  }
  if (!provider)
    return {
      score: 0,
      passed: false,
      status: 'error',
      explanation: `no similarity provider '${spec.provider}'; have: ${[...ctx.similarity.keys()].join(', ')}${spec.provider === EMBEDDING_PROVIDER_NAME ? ' (set MAESTRO_LLM_BASE_URL and MAESTRO_LLM_EMBEDDING_MODEL for it)' : ''}`,
    };
  const similarity = await provider.similarity(text, spec.expected, ctx.trainId ? { trainId: ctx.trainId } : undefined);
  const passed = similarity >= spec.min_similarity;
  // Score: similarity rescaled so that reaching min_similarity scores the pass mark's worth (1).
  const score = Math.min(1, similarity / Math.max(1e-9, spec.min_similarity));
  return { score, passed, explanation: `${provider.name} similarity ${similarity.toFixed(3)} ${passed ? '≥' : '<'} ${spec.min_similarity} to ${preview(spec.expected, 60)}` };
});
