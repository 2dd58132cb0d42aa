/** Code-graph activities: risk of a candidate, and graph queries for agents and people (codegraph/service.ts). */
import type { RiskReport } from '../core/stages';
import { assessRisk, CodeGraphService, parseAssessRiskInput, parseQueryGraphInput, queryGraph, type AssessRiskInput, type CodeGraphServiceOptions, type QueryGraphInput } from '../codegraph/service';
import { heartbeat, withHeartbeats } from './context';

export function createCodegraphActivities(deps: CodeGraphServiceOptions & { service?: CodeGraphService } = {}) {
  // One service per worker: the spec stage's symbol lookup and assessRisk share its ingested graphs.
  const service = deps.service ?? new CodeGraphService(deps);
  return {
    async assessRisk(input: AssessRiskInput): Promise<RiskReport> {
      // Progress heartbeats come per ingest step; the timer covers a single long step (a big graph write).
      return withHeartbeats(() => ({ activity: 'assessRisk' }), 1000, () => assessRisk(service, parseAssessRiskInput(input), heartbeat));
    },
    async queryGraph(input: QueryGraphInput): Promise<unknown> {
      return queryGraph(service, parseQueryGraphInput(input), heartbeat);
    },
  };
}
