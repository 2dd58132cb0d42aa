import path from 'node:path';
import { createSpecActivities } from './spec';
import { createRepoActivities } from './repo';
import { createCodegraphActivities } from './codegraph';
import { createEvalActivities } from './evals';
import { createPolicyActivities } from './policy';
import { createDeliveryActivities } from './delivery';
import { LocalDeployer } from './delivery/local-deployer';

export interface ActivityDeps {
  /** Root for Maestro's local state (work trees, deployed versions); '.maestro' of the project by default. */
  stateDir: string;
}

export const TSX_CLI = require.resolve('tsx/cli');

/** Every activity of the release train, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  const deployer = new LocalDeployer({ stateDir: path.join(deps.stateDir, 'deploy'), tsxCli: TSX_CLI });
  return {
    ...createSpecActivities(),
    ...createRepoActivities({ workRoot: path.join(deps.stateDir, 'work') }),
    ...createCodegraphActivities(),
    ...createEvalActivities({ tsxCli: TSX_CLI, artifactsDir: path.join(deps.stateDir, 'artifacts', 'evals') }),
    ...createPolicyActivities(),
    ...createDeliveryActivities({ deployer }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
