import { z } from 'zod';
import { migrationSchema, prismaDerivationSchema } from './migration';
import { durationMs } from './durations';
import { rolloutPlanSchema } from './rollout-plan';
import { findSecrets } from './secrets';
import { parseOrThrow } from './validation';

/**
 * A codemod named by data; what each name does lives in refactor/ (RefactorSurgeon).
 *
 * Common fields: `scope` is where the target (declaration or call sites) is looked up; `within`, when
 * given, is a hard boundary: a codemod that would change any file outside it fails and writes nothing.
 * `publicApi` says whether the emitted .d.ts of the non-test files may change ('change') or must stay
 * byte-identical ('preserve'); each codemod has the default its nature implies.
 */
/** The environments a release goes through, in promotion order (GitOps keeps one directory each). */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
const environmentSchema = z.enum(ENVIRONMENTS);

/**
 * A later environment's failure: 'rollback-all' takes every earlier environment back to what it ran before
 * (and reverts the merge); 'hold' leaves them on the change, so only the failed environment goes back.
 */
const promotionSchema = z
  .object({
    /**
     * The environments before `environment`, all of them in order (GitOps promotes an environment only once the one
     * before it runs the commit, so none can be skipped); given or not, the path starts at dev.
     */
    through: z.array(environmentSchema).optional(),
    onFailure: z.enum(['hold', 'rollback-all']).default('rollback-all'),
    /** An environment's own rollout plan instead of the change request's `rollout` (say, one step in dev). */
    rollouts: z.record(environmentSchema, rolloutPlanSchema).optional(),
  })
  .strict();

const identifier = z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be a TypeScript identifier');
const repoPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/'), 'must be a path relative to the repository');
const within = z.array(repoPath).min(1).optional();
const publicApi = z.enum(['preserve', 'change']).optional();
const renameFields = {
  from: identifier,
  to: identifier,
  scope: repoPath.default('.'),
  /** Narrows the declaration lookup to one file (repo-relative). */
  file: repoPath.optional(),
  within,
  publicApi,
};

export const codemodSchema = z.discriminatedUnion('codemod', [
  z
    .object({
      codemod: z.literal('rename-symbol'),
      from: identifier,
      to: identifier,
      scope: z.string().default('src'),
      within,
      publicApi,
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
  z.object({ codemod: z.literal('rename-function'), ...renameFields }).strict(),
  z.object({ codemod: z.literal('rename-class'), ...renameFields }).strict(),
  z
    .object({
      codemod: z.literal('rename-method'),
      class: identifier.optional(),
      ...renameFields,
      /**
       * Call sites whose receiver the type checker cannot resolve (typed `any`, untyped JavaScript) but that use
       * the method's name: 'refuse' (default) lists them; 'rename' is the user's confirmation that they call it.
       */
      unresolved: z.enum(['refuse', 'rename']).default('refuse'),
      /**
       * Other declarations of the name that meet this method at a call site (a union, a cast, an interface two
       * classes implement, a base class): 'refuse' (default) lists them; 'rename' renames the whole related set,
       * transitively, with all their call sites (refused still when one is declared outside the repository).
       */
      related: z.enum(['refuse', 'rename']).default('refuse'),
    })
    .strict(),
  z.object({ codemod: z.literal('move-file'), from: repoPath, to: repoPath, within, publicApi }).strict(),
  z
    .object({
      codemod: z.literal('move-function'),
      /** File that declares the function now. */
      file: repoPath,
      name: identifier,
      /** Destination file, created when missing. */
      to: repoPath,
      /** Leave `export { name } from '<to>'` behind so importers of `file` keep working (and the API stays). */
      reexport: z.boolean().default(false),
      within,
      publicApi,
    })
    .strict(),
  z
    .object({
      codemod: z.literal('add-parameter'),
      /** Function name, or method name when `class` is given. */
      function: identifier,
      class: identifier.optional(),
      file: repoPath.optional(),
      scope: repoPath.default('.'),
      parameter: z
        .object({
          name: identifier,
          type: z.string().min(1).optional(),
          /** Default value (an expression); it keeps every existing call valid. */
          default: z.string().min(1),
        })
        .strict(),
      /** Expression every call site passes for the new parameter; omitted: call sites rely on the default. */
      argument: z.string().min(1).optional(),
      within,
      publicApi,
    })
    .strict(),
  z
    .object({
      codemod: z.literal('replace-call'),
      /** A call pattern such as `assert.equal($a, $b)`; `$x` captures one argument, `$$rest` the rest. */
      from: z.string().min(1),
      /** The replacement, using the same placeholders, e.g. `expect($a).toBe($b)`. */
      to: z.string().min(1),
      scope: repoPath.default('.'),
      within,
      publicApi,
    })
    .strict(),
]);
export type Codemod = z.infer<typeof codemodSchema>;

/** A branch name or a commit id (full or abbreviated hex). */
const gitRef = z
  .string()
  .regex(/^[\w./-]+$/, 'a branch name or commit id: letters, digits, and . _ / - only')
  .refine(isBranchName, { message: "must be a git branch name or commit id: no '..', no leading '-' or '/', no '//', no trailing '/', '.' or '.lock', no segment starting with '.'" });

export const changeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('patch'), diff: z.string().min(1, 'a patch needs a unified diff') }).strict(),
  z.object({ kind: z.literal('codemod'), codemod: codemodSchema }).strict(),
  /**
   * A branch or commit already in the target repository: its changes since it left the base branch are
   * read there (repo/candidate.ts), so no patch text travels through Temporal.
   */
  z.object({ kind: z.literal('ref'), ref: gitRef }).strict(),
]);

/** A service names processes, Kubernetes objects and GitOps directories: a DNS label of at most 41 characters. */
export const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,39}[a-z0-9])?$/;
export const SERVICE_NAME_RULE = "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 41 characters";

export const changeRequestSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63, starting with a letter or digit'),
    title: z.string().min(1).max(200),
    intent: z.string().min(1).max(4000),
    /** Absolute path of the target git repository (the local stand-in for a clone URL). */
    repo: z
      .string()
      .startsWith('/', 'must be an absolute path to a git repository')
      .refine((p) => p.split('/').slice(1).every((segment) => segment !== '' && segment !== '.' && segment !== '..'), {
        message: "must be a normalised absolute path: no '.', '..', empty segments or trailing '/'",
      }),
    baseBranch: z
      .string()
      .regex(/^[\w./-]+$/, 'letters, digits, and . _ / - only')
      .refine(isBranchName, { message: "must be a git branch name: no '..', no leading '-' or '/', no '//', no trailing '/', '.' or '.lock', no segment starting with '.'" })
      .default('main'),
    /** Service name on the deployer; one running stable version per service. */
    service: z.string().regex(SERVICE_NAME, SERVICE_NAME_RULE),
    /** Where the change ends up; with `promotion`, the last environment of its path. */
    environment: environmentSchema.default('dev'),
    /**
     * Promotion across environments as one saga (workflows/release-train.ts): the change rolls out in every
     * environment from dev up to `environment`, each with its own rollout, gates and policy guards.
     */
    promotion: promotionSchema.optional(),
    author: z.string().min(1).default('unknown'),
    change: changeSchema,
    protectedPaths: z.array(z.string().min(1)).default([]),
    /** The agent prompt that produced the change (fix, implement, refactor): the eval gate runs the scenarios for it. */
    prompt: z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'lowercase letters, digits and _ . -').optional(),
    /** Tags such as `area:greeter`: the eval gate runs the scenarios that apply to them. */
    tags: z.array(z.string().regex(/^[a-z][a-z0-9_-]*(:[a-z0-9][a-z0-9_.-]*)?$/, "'word' or 'key:value', lowercase")).optional(),
    /** Approval needed before merge when policy allows: 'auto' merges at once. */
    approval: z.enum(['auto', 'required']).default('auto'),
    approvalTimeout: durationMs.default('10m'),
    /** When set, a denial stays open this long for an appeal or an approval; absent, a denial is final. */
    appealWindow: durationMs.optional(),
    rollout: rolloutPlanSchema.default({}),
    /**
     * A shadow change (the seed's guard against codemod regressions): applied, tested, scored and decided like any
     * other, then kept on its branch and never merged or deployed; the train ends `shadowed`, saying what would have happened.
     */
    shadow: z.boolean().default(false),
    /** When another train holds the service: wait in its queue, or end at once (outcome aborted) saying who holds it. */
    whenServiceBusy: z.enum(['wait', 'refuse']).default('wait'),
    /**
     * A schema change that ships with the code: expanded and backfilled before the merge and the canary,
     * contracted after promotion, rolled back on any other end (workflows/database-migration.ts).
     */
    migration: z
      .object({
        /** The service's database (postgresql://…); its password, if any, comes from the environment, not from here. */
        databaseUrl: z.string().refine(isPasswordlessPostgresUrl, 'a postgresql:// url without a password'),
        /** The migration written by hand … */
        definition: migrationSchema.optional(),
        /** … or derived from the change's schema.prisma when the candidate is prepared (core/prisma-migration.ts). */
        prisma: prismaDerivationSchema.optional(),
      })
      .strict()
      .refine((m) => (m.definition === undefined) !== (m.prisma === undefined), {
        message: "give either 'definition' (the migration written by hand) or 'prisma' (derive it from the change's schema.prisma), not both or neither",
      })
      .optional(),
  })
  .strict()
  .superRefine((cr, ctx) => {
    if (!cr.promotion) return;
    const path = promotionPath(cr);
    if (path.length === 1)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['promotion'], message: `environment '${cr.environment}' is the first: there is nothing to promote through; drop 'promotion' or name a later environment` });
    const given = cr.promotion.through;
    if (given && given.join() !== path.slice(0, -1).join())
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['promotion', 'through'],
        message: `${given.join(', ') || 'nothing'} is not the way to ${cr.environment}: a release reaches an environment only through every one before it (GitOps refuses to skip one), so give [${path
          .slice(0, -1)
          .join(', ')}] or leave 'through' out`,
      });
    if (cr.migration)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['migration'],
        message: 'a database migration cannot yet travel a promotion path (each environment would need its own database and contract point): ship the migration with a one-environment change request first',
      });
    for (const env of Object.keys(cr.promotion.rollouts ?? {}))
      if (!path.includes(env as Environment))
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['promotion', 'rollouts', env], message: `'${env}' is not on the path ${path.join(' → ')}; give rollouts only for its environments` });
  });

/** The environments a change request rolls out in, in order: its promotion path, or its one environment. */
export function promotionPath(cr: Pick<ChangeRequest, 'environment' | 'promotion'>): Environment[] {
  return cr.promotion ? ENVIRONMENTS.slice(0, ENVIRONMENTS.indexOf(cr.environment) + 1) : [cr.environment];
}

function isPasswordlessPostgresUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'postgresql:' || parsed.protocol === 'postgres:') && parsed.password === '';
  } catch {
    return false;
  }
}

/** The subset of `git check-ref-format --branch` that the allowed characters can break. */
function isBranchName(name: string): boolean {
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.endsWith('.lock')) return false;
  if (name.includes('..') || name.includes('//')) return false;
  return name.split('/').every((segment) => !segment.startsWith('.'));
}

export type ChangeRequestInput = z.input<typeof changeRequestSchema>;
export type ChangeRequest = z.output<typeof changeRequestSchema>;

export function parseChangeRequest(input: unknown): ChangeRequest {
  return parseOrThrow(changeRequestSchema, input, 'change request');
}

/**
 * Why a change request must not start, when its inline patch adds a likely credential: said by the CLI
 * and by the workflow before any activity runs, so the secret reaches no branch, record or artifact.
 * Names kind and place only, never the secret.
 */
export function inlineSecretsRefusal(cr: ChangeRequest): string | undefined {
  if (cr.change.kind !== 'patch') return undefined;
  const found = findSecrets(cr.change.diff);
  if (found.length === 0) return undefined;
  return (
    `change '${cr.id}': the patch adds ${found.length} likely secret(s); nothing was started:\n${found.map((f) => `  ${f.redacted}`).join('\n')}\n` +
    `Remove them from the change (and rotate them), then read them from the environment or a secret store.`
  );
}
