export { releaseTrain } from './release-train';
export { progressiveRollout } from './progressive-rollout';
export { appeal } from './appeal';
export { databaseMigration } from './database-migration';
