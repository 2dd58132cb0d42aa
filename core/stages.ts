/** The results each release-train stage hands to the next (see DESIGN.md §1). */
import { z } from 'zod';
import type { Migration } from './migration';
import type { ChangeMutationReport } from './mutation';
import type { PropertyRepro } from './property-repro';
import type { TestChange } from './test-changes';

export interface SpecScenario {
  id: string;
  given: string;
  when: string;
  then: string;
}
export interface Spec {
  changeId: string;
  title: string;
  scenarios: SpecScenario[];
  acceptanceCriteria: { id: string; text: string }[];
}

export interface Candidate {
  branch: string;
  baseSha: string;
  sha: string;
  changedFiles: string[];
  diffStat: { files: number; insertions: number; deletions: number };
  diff: string;
  /** The candidate's own maestro.service.json, validated. */
  service: ServiceDescriptor;
  /** The migration derived from the change's schema.prisma (change request `migration.prisma`), and how. */
  derivedMigration?: { file: string; definition: Migration; notes: string[] };
}

export interface RiskFactor {
  name: string;
  value: number;
  weight: number;
  detail: string;
}
export interface RiskReport {
  score: number;
  factors: RiskFactor[];
}

export interface CheckResult {
  check: string;
  score: number;
  passed: boolean;
  explanation: string;
}
export interface EvalReport {
  score: number;
  passed: boolean;
  threshold: number;
  checks: CheckResult[];
  durationMs: number;
  /**
   * How the change touches the tests that judge it (core/test-changes.ts), each with file and line; read by
   * the tests-weakened policy rule. Optional: reports recorded before it existed still parse.
   */
  testChanges?: TestChange[];
  /**
   * Every scenario behind `score`: the gate scenario and the registry scenarios selected for the change, each
   * with why it was selected (evals/gate.ts). Optional: reports recorded before it existed still parse.
   */
  scenarios?: EvalScenarioResult[];
  /**
   * The mutation score of the changed code and its surviving mutants, when a selected scenario ran a
   * `mutation_score` check (evals/checks/mutation-score.ts); read by the mutation-score-below-threshold rule.
   */
  mutation?: ChangeMutationReport;
  /**
   * The failing fast-check properties of the stage's test runs, each with its seed, shrunk counterexample and
   * replay command (core/property-repro.ts): at most MAX_CARRIED_REPROS carried, `count` all of them.
   */
  failingProperties?: { count: number; repros: PropertyRepro[] };
}
export interface EvalScenarioResult {
  id: string;
  score: number;
  passed: boolean;
  weight: number;
  /** Why it ran: 'gate', `path <file> ~ <glob>`, `prompt <name>`, `tag <tag>`; or why it was skipped. */
  selectedBy: string[];
  skipped?: string;
  checks: CheckResult[];
}

export interface Denial {
  rule: string;
  reason: string;
  evidence: string;
  fix: string;
}
export type PolicyDecision =
  | { outcome: 'allow'; notes: string[] }
  | { outcome: 'deny'; denials: [Denial, ...Denial[]] };

export interface MergeRecord {
  mergeSha: string;
  candidateSha: string;
  baseBranch: string;
  alreadyMerged: boolean;
}

/** How a target repository says it is tested and run; read from maestro.service.json at its root. */
export const serviceDescriptorSchema = z
  .object({
    /** Entry file of the HTTP service (TypeScript or JavaScript), started with PORT in its environment. */
    entry: z.string().min(1),
    healthPath: z.string().startsWith('/').default('/healthz'),
    /** Test command run in the candidate's work tree, argv form; '{node}' and '{tsx}' are filled in. */
    test: z.array(z.string().min(1)).min(1),
  })
  .strict();
export type ServiceDescriptor = z.output<typeof serviceDescriptorSchema>;
