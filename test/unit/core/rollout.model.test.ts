/**
 * Model-based test of the progressive rollout's pure decision logic: the plan (core/rollout-plan.ts), the
 * per-step gate, the probe judge and the gate count (core/health.ts), driven by probes and operator signals
 * in any order, against a model that says only what must happen.
 *
 * `Rollout` calls the pure functions in the order workflows/progressive-rollout.ts does (set the step's
 * weight, judge each probe, fold it into the step's gate, roll back on a failed gate, move on on a passed
 * or skipped one) and holds the operator's state the workflow's signal handlers hold. Timers (probe interval,
 * gate timeout) are the workflow's and are left out.
 */
import fc from 'fast-check';
import { advanceGate, judgeProbe, type GateProgress, type ProbeSample, type ProbeVerdict } from '../../../core/health';
import { gateForStep, parseRolloutPlan, type RolloutPlan, type RolloutPlanInput } from '../../../core/rollout-plan';

type Outcome = 'promoted' | 'rolled_back' | 'aborted';

class Rollout {
  weight = 0;
  stepIndex = -1;
  paused = false;
  outcome: Outcome | undefined;
  weights: number[] = [];
  private progress: GateProgress = { consecutiveGreen: 0, red: 0, probes: 0 };
  private promoteRequested = false;

  constructor(
    readonly plan: RolloutPlan,
    readonly evalScore: number,
  ) {
    this.enterStep(0);
  }

  private enterStep(index: number): void {
    if (index === this.plan.steps.length) {
      [this.outcome, this.weight] = ['promoted', 100];
      return;
    }
    this.stepIndex = index;
    this.weight = this.plan.steps[index]!.setWeight;
    this.weights.push(this.weight);
    this.progress = { consecutiveGreen: 0, red: 0, probes: 0 };
  }

  /** A probe window closes (the workflow probes only while running and not paused). */
  probe(sample: ProbeSample): ProbeVerdict {
    const { verdict } = judgeProbe(sample, this.plan.thresholds, this.evalScore);
    const next = advanceGate(this.progress, verdict, gateForStep(this.plan, this.stepIndex));
    this.progress = next.progress;
    if (next.outcome === 'failed') [this.outcome, this.weight] = ['rolled_back', 0];
    else if (next.outcome === 'passed') this.enterStep(this.stepIndex + 1);
    return verdict;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.takePromote();
  }

  /** Skips the current step's gate, at once or as soon as the rollout is resumed. */
  promote(): void {
    this.promoteRequested = true;
    this.takePromote();
  }

  private takePromote(): void {
    if (!this.promoteRequested || this.paused || this.outcome) return;
    this.promoteRequested = false;
    this.enterStep(this.stepIndex + 1);
  }

  abort(): void {
    if (!this.outcome) [this.outcome, this.weight] = ['aborted', 0];
  }
}

/** What must happen, in the plan's own words: weights in order, N greens since the last red pass, M reds fail. */
interface Model {
  weights: number[];
  step: number;
  greensSinceRed: number;
  reds: number;
  paused: boolean;
  promotePending: boolean;
  outcome: Outcome | undefined;
  /** The gate settings of each step as written in the plan (a step's own, else the plan's). */
  gates: { consecutiveGreen: number; maxRed: number }[];
  /** The change's eval score is below the bar: every probe must be red. */
  belowEvalBar: boolean;
}

const weightOf = (m: Model): number => (m.outcome === 'promoted' ? 100 : m.outcome ? 0 : m.weights[m.step]!);

function nextStep(m: Model): void {
  m.step += 1;
  m.greensSinceRed = 0;
  m.reds = 0;
  if (m.step === m.weights.length) m.outcome = 'promoted';
}

function checkAgainst(m: Model, r: Rollout): void {
  expect(r.outcome).toBe(m.outcome);
  expect(r.weight).toBe(weightOf(m));
  expect(r.paused).toBe(m.paused);
  // Traffic only ever moves up the plan's weights, one step at a time, never skipping one.
  expect(r.weights).toEqual(m.weights.slice(0, Math.min(m.step, m.weights.length - 1) + 1));
}

/** A probe window built to be judged `intent` under the default thresholds (p95 ≤ 300 ms, ≤ 1% errors, ≥ 20 requests). */
function sampleFor(intent: ProbeVerdict): ProbeSample {
  const canary =
    intent === 'green'
      ? { requests: 50, errors: 0, p50Ms: 20, p95Ms: 120 }
      : intent === 'red'
        ? { requests: 50, errors: 10, p50Ms: 20, p95Ms: 900 }
        : { requests: 5, errors: 5, p50Ms: 20, p95Ms: 900 };
  return { at: 0, weight: 0, canary, stable: { requests: 500, errors: 0, p50Ms: 20, p95Ms: 100 } };
}

class ProbeCommand implements fc.Command<Model, Rollout> {
  constructor(readonly intent: ProbeVerdict) {}
  check(m: Readonly<Model>): boolean {
    return !m.outcome && !m.paused;
  }
  run(m: Model, r: Rollout): void {
    const verdict = m.belowEvalBar ? 'red' : this.intent;
    expect(r.probe(sampleFor(this.intent))).toBe(verdict);
    const gate = m.gates[m.step]!;
    if (verdict === 'red') {
      m.reds += 1;
      m.greensSinceRed = 0;
      if (m.reds === gate.maxRed) m.outcome = 'rolled_back';
    } else if (verdict === 'green') {
      m.greensSinceRed += 1;
      if (m.greensSinceRed === gate.consecutiveGreen) nextStep(m);
    }
    checkAgainst(m, r);
  }
  toString(): string {
    return `probe(${this.intent})`;
  }
}

class SignalCommand implements fc.Command<Model, Rollout> {
  constructor(readonly signal: 'pause' | 'resume' | 'promote' | 'abort') {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Rollout): void {
    // Signals after the end reach a workflow that has returned: nothing may change.
    if (!m.outcome) {
      if (this.signal === 'abort') m.outcome = 'aborted';
      if (this.signal === 'pause') m.paused = true;
      if (this.signal === 'resume') m.paused = false;
      if (this.signal === 'promote') m.promotePending = true;
      if (m.promotePending && !m.paused && !m.outcome) {
        m.promotePending = false;
        nextStep(m);
      }
      r[this.signal]();
    }
    checkAgainst(m, r);
  }
  toString(): string {
    return this.signal;
  }
}

const gateInput = fc.record({ consecutiveGreen: fc.integer({ min: 1, max: 4 }), maxRed: fc.integer({ min: 1, max: 3 }) });
const planInput = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 3 })
  .chain((ws) =>
    fc.record({
      weights: fc.constant<number[]>([...ws.sort((a, b) => a - b), 100]),
      gate: gateInput,
      overrides: fc.array(fc.option(fc.oneof(gateInput, gateInput.map(({ maxRed }) => ({ maxRed }))), { nil: undefined }), { minLength: ws.length + 1, maxLength: ws.length + 1 }),
    }),
  );

const commands = fc.commands(
  [
    fc.constantFrom<ProbeVerdict>('green', 'red', 'inconclusive').map((v) => new ProbeCommand(v)),
    fc.constantFrom('pause', 'resume', 'promote', 'abort' as const).map((s) => new SignalCommand(s)),
  ],
  { maxCommands: 40 },
);

describe('progressive rollout decision logic against its model', () => {
  it('weights, gate verdicts and pause/resume/promote/abort in any order end as the model says', () => {
    fc.assert(
      fc.property(planInput, fc.constantFrom(0.9, 0.5), commands, ({ weights, gate, overrides }, evalScore, cmds) => {
        const input: RolloutPlanInput = {
          // A generous timeout keeps every generated gate feasible; timeouts are the workflow's, not modelled here.
          gate: { ...gate, probeInterval: 1000, timeout: '10m' },
          steps: weights.map((setWeight, i) => (overrides[i] ? { setWeight, gate: overrides[i] } : { setWeight })),
        };
        const plan = parseRolloutPlan(input);
        const model: Model = {
          weights,
          step: 0,
          greensSinceRed: 0,
          reds: 0,
          paused: false,
          promotePending: false,
          outcome: undefined,
          gates: weights.map((_, i) => ({ ...gate, ...overrides[i] })),
          belowEvalBar: evalScore < 0.85,
        };
        fc.modelRun(() => ({ model, real: new Rollout(plan, evalScore) }), cmds);
      }),
      { numRuns: 300 },
    );
  });
});
