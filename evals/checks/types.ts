import type { CheckSpec, Scenario } from '../dsl';
import type { JudgeProvider, SimilarityProvider } from '../semantic';
import type { TestChangeAnalysis } from '../../core/test-changes';
import type { TestRun } from '../test-runner';

export type CheckStatus = 'passed' | 'failed' | 'unverified' | 'error' | 'skipped';

/** What one check says: a score in [0,1], pass/fail at its pass mark, and why, in words. */
export interface CheckOutcome {
  score: number;
  /** Overrides the pass mark (e.g. unverified requirements never pass). */
  passed?: boolean;
  status?: CheckStatus;
  explanation: string;
  details?: Record<string, unknown>;
}

/** Everything a check may look at; built by the runner for one scenario run in its own work dir. */
export interface CheckContext {
  scenario: Scenario;
  /** Fixtures after perturbation. */
  fixtures: Scenario['fixtures'];
  repo: string;
  baseSha: string;
  candidateSha: string;
  /** The candidate's isolated work tree (context files and perturbations applied). */
  workDir: string;
  /** Files the candidate claims to change (from the release train's Candidate), if known. */
  claimedFiles?: string[];
  protectedPaths: string[];
  /** The repository's test command, placeholders filled; undefined when the repo declares none. */
  testArgv?: string[];
  env: NodeJS.ProcessEnv;
  /** Milliseconds left of the scenario's time limit. */
  timeLeftMs(): number;
  /** The agent's output for this scenario's (perturbed) prompt, when an agent is configured. */
  output?: string;
  /** The candidate's test suite in the work dir (memoised per scenario run). */
  candidateTests(): Promise<TestRun>;
  /** Where that run writes its V8 coverage; set only when the scenario has a changed_lines_covered check. */
  coverageDir?: string;
  /** The base commit with the candidate's test files copied in (fail-to-pass), memoised. */
  baseTestsWithCandidateTests(): Promise<{ run: TestRun; testFiles: string[] }>;
  /** A clean work tree of the base commit (created on first use). */
  baseTree(): Promise<string>;
  /** A second, clean work tree of the candidate (created on first use) that a check may change, e.g. to restore base tests. */
  scratchCandidateTree(): Promise<string>;
  /** The base commit's test command, placeholders filled; undefined when the base declares none. */
  baseTestArgv?: string[];
  /** Runs argv in `cwd` within the scenario's time limit and sandbox. */
  runTests(argv: readonly string[], cwd: string): Promise<TestRun>;
  /** How the change touches the tests (core/test-changes.ts), memoised. */
  testChanges(): Promise<TestChangeAnalysis>;
  /** The change request's intent, when known: it documents intended expectation updates. */
  intent?: string;
  similarity: Map<string, SimilarityProvider>;
  judge?: JudgeProvider;
  /** The train the eval runs for: its model calls (judge, embeddings) are on its account in the ledger. */
  trainId?: string;
}

export type CheckImpl<T extends CheckSpec['type']> = (spec: Extract<CheckSpec, { type: T }>, ctx: CheckContext) => Promise<CheckOutcome>;
