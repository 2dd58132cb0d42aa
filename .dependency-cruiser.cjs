/**
 * The layer rules (DESIGN.md): imports point down, never up, and nothing is circular.
 * Checked by `npm run lint:deps` and by test/unit/architecture/dependency-rules.test.ts (part of `npm test`).
 *
 * Each layer lists what it may import; anything of ours outside the list is a violation.
 * Third-party packages are not restricted here; Node builtins only in core.
 * examples/ (the demo repo and its changes) is not a layer of the design: the demo (cli), the tests and bench use it.
 */
const CAPABILITIES = '(codegraph|dashboard|delivery|evals|llm|migrations|outliers|policy|provenance|record|refactor|specsynth|repo|verify)';
const THIRD_PARTY = 'node_modules/';

/** A rule: `layer` (a path regex) may import only `allowed` (path regexes) of ours. */
function only(name, layer, allowed, comment) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: layer },
    to: { pathNot: [...allowed, THIRD_PARTY], dependencyTypesNot: ['core'] },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: they can no longer be understood, tested or moved apart.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    only('core-imports-only-core', '^core/', ['^core/'], 'core is pure logic and schemas: it depends on nothing else of ours.'),
    {
      name: 'core-no-side-effect-builtins',
      comment: 'core does no I/O: no file system, processes or network.',
      severity: 'error',
      from: { path: '^core/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|fs/promises|child_process|net|http|https|http2|dgram|dns|tls|cluster|worker_threads|readline|inspector)$',
      },
    },
    only('io-imports-only-core', '^io/', ['^io/', '^core/'], 'io holds the git, worktree and process primitives over core.'),
    only(
      'capabilities-stay-below-activities',
      `^${CAPABILITIES}/`,
      [`^${CAPABILITIES}/`, '^io/', '^core/'],
      'Capability libraries are plain libraries: other libraries, io and core; never Temporal adapters, entry points or tests.',
    ),
    only('activities-adapt-capabilities', '^activities/', ['^activities/', `^${CAPABILITIES}/`, '^io/', '^core/'], 'Activities adapt capability libraries to Temporal.'),
    only('workflows-are-deterministic', '^workflows/', ['^workflows/', '^core/', '^activities/'], 'Workflow code runs in the sandbox: core and workflows only (activities: see below).'),
    {
      name: 'workflows-import-activities-as-types',
      comment: 'Workflows reach activities through proxyActivities; an import that is not `import type` would bundle activity code into the sandbox.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    only(
      'workers-wire-workflows-and-activities',
      '^workers/',
      ['^workers/', '^workflows/', '^activities/', '^io/', '^core/', '^infra/postgres/server\\.ts$', '^infra/prometheus/server\\.ts$', '^infra/kubernetes/server\\.ts$'],
      'A worker registers workflows and activities; its default record is the embedded PostgreSQL, its default Prometheus and Kubernetes cluster the embedded ones.',
    ),
    only(
      'cli-talks-to-workflows-by-messages',
      '^cli/',
      ['^cli/', '^workflows/messages\\.ts$', `^${CAPABILITIES}/`, '^io/', '^core/', '^infra/', '^examples/'],
      'The CLI starts and queries workflows through workflows/messages.ts only; it never runs workflow or activity code.',
    ),
    only('infra-launches-servers', '^infra/', ['^infra/', '^io/', '^core/', '^workflows/messages\\.ts$', '^record/migrate\\.ts$'], 'Launchers: servers, their search attributes and the record migrations.'),
    only('examples-are-fixtures', '^examples/', ['^examples/', `^${CAPABILITIES}/`, '^io/', '^core/'], 'The demo repo and its changes, over libraries only.'),
    {
      name: 'entry-points-and-tests-are-leaves',
      comment: 'workers/, cli/, bench/ and test/ are run, never imported (test/ and bench/ may use their own helpers; test/ may use bench/).',
      severity: 'error',
      from: { path: '^([^/]+)/', pathNot: '^(test|bench)/' },
      to: { path: '^(workers|cli|bench|test)/', pathNot: '^$1/' },
    },
    {
      name: 'bench-imports-neither-test-nor-cli',
      comment: 'Benchmarks run without the test tree, and drive the stack as its users do, not through CLI internals.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^(test|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // examples/greeter-service is the demo's own project (the code the release train ships), and
    // examples/corpus/forwarded a vendored third-party one (the gaming corpus's second repository): not ours.
    exclude: { path: '^(node_modules|dist|\\.maestro|examples/greeter-service|examples/corpus/forwarded|examples/changes)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Sees `import type` (erased by tsc) so that type-only imports are checked, and told apart.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
