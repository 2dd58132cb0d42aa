import { z } from 'zod';
import { durationMs, rolloutPlanSchema } from './rollout-plan';
import { parseOrThrow } from './validation';

/** A codemod named by data; the registry of what each name does lives in activities/repo/codemods.ts. */
export const codemodSchema = z.discriminatedUnion('codemod', [
  z
    .object({
      codemod: z.literal('rename-symbol'),
      from: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be a TypeScript identifier'),
      to: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be a TypeScript identifier'),
      scope: z.string().default('src'),
    })
    .strict(),
  z
    .object({
      codemod: z.literal('replace-literal'),
      file: z.string().min(1),
      from: z.string().min(1),
      to: z.string(),
    })
    .strict(),
]);
export type Codemod = z.infer<typeof codemodSchema>;

export const changeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('patch'), diff: z.string().min(1, 'a patch needs a unified diff') }).strict(),
  z.object({ kind: z.literal('codemod'), codemod: codemodSchema }).strict(),
]);

export const changeRequestSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63, starting with a letter or digit'),
    title: z.string().min(1).max(200),
    intent: z.string().min(1).max(4000),
    /** Absolute path of the target git repository (the local stand-in for a clone URL). */
    repo: z.string().startsWith('/', 'must be an absolute path to a git repository'),
    baseBranch: z.string().regex(/^[\w./-]+$/).default('main'),
    /** Service name on the deployer; one running stable version per service. */
    service: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/),
    environment: z.enum(['dev', 'staging', 'prod']).default('staging'),
    author: z.string().min(1).default('unknown'),
    change: changeSchema,
    protectedPaths: z.array(z.string().min(1)).default([]),
    /** Approval needed before merge when policy allows: 'auto' merges at once. */
    approval: z.enum(['auto', 'required']).default('auto'),
    approvalTimeout: durationMs.default('10m'),
    rollout: rolloutPlanSchema.default({}),
  })
  .strict();

export type ChangeRequestInput = z.input<typeof changeRequestSchema>;
export type ChangeRequest = z.output<typeof changeRequestSchema>;

export function parseChangeRequest(input: unknown): ChangeRequest {
  return parseOrThrow(changeRequestSchema, input, 'change request');
}
