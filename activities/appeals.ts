/**
 * Activities of the appeal workflow (workflows/appeal.ts): open an appeal on a train that is still
 * running, record each step in the audit trail, close it with its decision. Every write has a key
 * derived from the appeal id, so retries never write twice.
 */
import { InvalidInputError, PermanentError } from '../core/errors';
import { appealRoles, defaultPolicy, type CompiledPolicy } from '../core/policy-rules';
import { lazyDb, type Db } from '../record/db';
import { loadPolicyFile } from '../policy/load';

export interface AppealDeps {
  prisma?: Db;
  url?: string;
  policy?: CompiledPolicy;
  policyFile?: string;
}

export interface OpenAppealInput {
  appealId: string;
  trainId: string;
  appellant: string;
  reason: string;
  /** Rule ids to overrule; empty = every rule the train's latest decision denied. */
  rules: string[];
}

export interface OpenedAppeal {
  rules: string[];
  /** Identities that may decide ('*' = anyone holding the role is everyone). */
  deciders: string[];
  deciderRoles: string[];
  allowSelfDecision: boolean;
}

export type AppealVerdict = 'granted' | 'rejected' | 'withdrawn';

export function createAppealActivities(deps: AppealDeps = {}) {
  const db = lazyDb(deps);
  let policy = deps.policy;
  const currentPolicy = (): CompiledPolicy => {
    if (policy) return policy;
    policy = deps.policyFile ? loadPolicyFile(deps.policyFile) : defaultPolicy();
    return policy;
  };

  async function audit(key: string, trainId: string, actor: string, action: string, detail: Record<string, unknown>): Promise<void> {
    await db().auditEvent.createMany({ data: [{ key, trainId, actor, action, detail: JSON.parse(JSON.stringify(detail)) }], skipDuplicates: true });
  }

  return {
    /** Checks the train is open and the appellant may appeal, then records the appeal (once). */
    async openAppeal(input: OpenAppealInput): Promise<OpenedAppeal> {
      const existing = await db().appeal.findUnique({ where: { id: input.appealId } });
      const train = await db().train.findUnique({ where: { id: input.trainId } });
      if (!train) throw new PermanentError(`cannot appeal: there is no train ${input.trainId} in the record`, 'UnknownTrain');
      // A retry after the appeal row was written must not fail because the train closed meanwhile.
      if (train.state === 'closed' && !existing)
        throw new PermanentError(`cannot appeal: train ${input.trainId} is closed (outcome ${train.outcome ?? 'unknown'}${train.reason ? `: ${train.reason}` : ''}); start a new train instead`, 'TrainClosed');
      const decision = await db().policyDecision.findFirst({ where: { trainId: input.trainId }, orderBy: { id: 'desc' } });
      const denied = decision?.outcome === 'deny' ? (decision.denials as { rule: string }[]).map((d) => d.rule) : [];
      const rules = input.rules.length > 0 ? input.rules : denied;
      if (rules.length === 0) throw new PermanentError(`cannot appeal: train ${input.trainId} has no denial to appeal`, 'NothingToAppeal');
      const notDenied = rules.filter((r) => decision && !denied.includes(r));
      if (notDenied.length > 0) throw new InvalidInputError(`cannot appeal rule(s) ${notDenied.join(', ')}: the train's decision did not deny them (denied: ${denied.join(', ') || 'nothing'})`);
      const config = currentPolicy().config;
      const { mayAppeal, deciderRoles } = appealRoles(config, input.appellant, train.author, rules);
      if (!mayAppeal)
        throw new PermanentError(`${input.appellant} may not appeal: only the author (${train.author}) or holders of ${config.appeals.appellants.map((r) => `'${r}'`).join(', ') || 'no role'} may`, 'NotPermitted');
      await db().appeal.createMany({
        data: [{ id: input.appealId, trainId: input.trainId, decisionId: decision?.id ?? null, rules, appellant: input.appellant, reason: input.reason }],
        skipDuplicates: true,
      });
      await audit(`appeal/${input.appealId}/opened`, input.trainId, input.appellant, 'appeal.opened', { appealId: input.appealId, rules, reason: input.reason, deciderRoles });
      const deciders = [...new Set(deciderRoles.flatMap((r) => config.roles[r] ?? []))];
      return { rules, deciders, deciderRoles, allowSelfDecision: config.appeals.allowSelfDecision };
    },

    /** One step of an appeal in the audit trail (e.g. a refused decision signal); `seq` makes it idempotent. */
    async recordAppealStep(input: { appealId: string; trainId: string; seq: number; actor: string; action: string; detail: Record<string, unknown> }): Promise<void> {
      await audit(`appeal/${input.appealId}/step/${input.seq}`, input.trainId, input.actor, input.action, { appealId: input.appealId, ...input.detail });
    },

    /** Records the verdict; closing again with the same verdict is a no-op, a different one is an error. */
    async closeAppeal(input: { appealId: string; trainId: string; status: AppealVerdict; by: string; reason: string }): Promise<void> {
      const row = await db().appeal.findUnique({ where: { id: input.appealId } });
      if (!row) throw new PermanentError(`no appeal ${input.appealId}`, 'UnknownAppeal');
      if (row.status !== 'open' && row.status !== input.status) throw new PermanentError(`appeal ${input.appealId} is already ${row.status}`, 'AppealClosed');
      await db().appeal.updateMany({ where: { id: input.appealId, status: 'open' }, data: { status: input.status, decidedBy: input.by, decisionReason: input.reason, decidedAt: new Date() } });
      await audit(`appeal/${input.appealId}/${input.status}`, input.trainId, input.by, `appeal.${input.status}`, { appealId: input.appealId, reason: input.reason, rules: row.rules });
    },
  };
}

export type AppealActivities = ReturnType<typeof createAppealActivities>;
