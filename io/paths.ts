/**
 * Where Maestro keeps its state: one root (the checkout's `.maestro`, or the worker's
 * MAESTRO_STATE_DIR) and every directory under it derived here, so no module guesses the layout
 * from its own location.
 */
import path from 'node:path';

/** The checkout Maestro runs from (this file is <root>/io/paths.ts). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_STATE_DIR = path.join(PROJECT_ROOT, '.maestro');

export function statePaths(root: string = DEFAULT_STATE_DIR) {
  return {
    root,
    /** Per-change work trees. */
    work: path.join(root, 'work'),
    specArtifacts: path.join(root, 'artifacts', 'specs'),
    evalArtifacts: path.join(root, 'artifacts', 'evals'),
    /** The local deployer's processes, logs and proxy state. */
    deploy: path.join(root, 'deploy'),
    /** The outlier analyzer's issues, one folder per anomaly (outliers/file-issues.ts). */
    issues: path.join(root, 'issues'),
    keys: path.join(root, 'keys'),
    /** The payload codec's AES keys (io/payload-codec.ts), 0600. */
    codecKeys: path.join(root, 'keys', 'payload-codec.json'),
    gitops: path.join(root, 'gitops'),
    /** Merge provenance bundles, one directory per train. */
    releases: path.join(root, 'releases'),
    demo: path.join(root, 'demo'),
    /** Pid files and logs of the services `maestro up` starts. */
    run: path.join(root, 'run'),
    bench: path.join(root, 'bench'),
    neo4j: path.join(root, 'neo4j'),
    postgres: path.join(root, 'postgres'),
    temporal: path.join(root, 'temporal'),
    temporalDb: path.join(root, 'temporal', 'dev.sqlite'),
  } as const;
}

/** The default layout, under DEFAULT_STATE_DIR. */
export const STATE = statePaths();

/** tsx's CLI: every TypeScript process Maestro starts (services, proxy, worker, test commands) runs through it. */
export const TSX_CLI = require.resolve('tsx/cli');
