import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { TASK_QUEUE } from '../workflows/messages';
import type { WorkerConfig } from './config';
import { activityInterceptors } from './interceptors';

export type WorkflowSource = Pick<WorkerOptions, 'workflowsPath'> | Pick<WorkerOptions, 'workflowBundle'>;

/** Builds the release-train worker; callers own connection shutdown. */
export async function createReleaseWorker(
  config: WorkerConfig,
  connection: NativeConnection,
  workflows: WorkflowSource = { workflowsPath: require.resolve('../workflows') },
): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.MAESTRO_TASK_QUEUE ?? TASK_QUEUE,
    activities: createActivities({ stateDir: config.MAESTRO_STATE_DIR, databaseUrl: config.MAESTRO_DATABASE_URL }),
    interceptors: { activity: activityInterceptors },
    maxConcurrentActivityTaskExecutions: config.MAESTRO_MAX_CONCURRENT_ACTIVITIES,
    ...workflows,
  });
}
