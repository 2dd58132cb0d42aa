/** `maestro refactor apply <codemod.json> --repo <dir> [--dry-run] [--test CMD | --no-test] [--no-typecheck] [--check-api]` */
import { readFileSync } from 'node:fs';
import { CodemodError, parseCodemod, RefactorWorkspace, applyCodemod } from '../../refactor';
import { ValidationError } from '../../core/validation';
import { defineCommand, UsageError } from '../command';

const USAGE = `usage: maestro refactor apply <codemod.json> --repo <dir> [--dry-run] [--test "<command>" | --no-test] [--no-typecheck] [--check-api]
  a real apply runs the repository's tests before and after (default: maestro.service.json's test, else npm test)
  and undoes the change when tests that passed before fail;
  codemod.json holds one codemod or an array of them (applied in order on one loaded project), e.g.
  {"codemod":"rename-method","class":"Shape","from":"area","to":"surface"}
  (rename-method: add "related":"rename" to rename with it the declarations that meet it at a call site,
  "unresolved":"rename" to rename the call sites on \`any\` receivers; both are refused, with the list, otherwise)
  kinds: rename-symbol, rename-function, rename-class, rename-method, move-file, move-function,
         add-parameter, replace-call, replace-literal`;

export const command = defineCommand({
  name: 'refactor',
  usage: USAGE,
  options: {
    repo: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    test: { type: 'string' },
    'no-test': { type: 'boolean', default: false },
    'no-typecheck': { type: 'boolean', default: false },
    'check-api': { type: 'boolean', default: false },
  },
  async run({ values, positionals }, io) {
    const [sub, file, ...extra] = positionals;
    if (sub !== 'apply') throw new UsageError(sub ? `unknown subcommand '${sub}'; allowed: apply` : 'missing subcommand apply');
    if (!file || extra.length) throw new UsageError('apply needs exactly one <codemod.json>');
    if (!values.repo) throw new UsageError('apply needs --repo <dir>');
    const repo = values.repo;
    let codemods;
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      codemods = (Array.isArray(data) ? data : [data]).map(parseCodemod);
    } catch (error) {
      io.print(`error: ${file}: ${error instanceof ValidationError || error instanceof SyntaxError ? error.message : (error as Error).message}`);
      return 2;
    }
    const options = {
      dryRun: values['dry-run'],
      typecheck: !values['no-typecheck'],
      ...(values['check-api'] ? { checkPublicApi: true } : {}),
      ...(values['no-test'] ? { testCommand: false as const } : values.test ? { testCommand: values.test } : {}),
    };
    try {
      let workspace: RefactorWorkspace | undefined;
      for (const codemod of codemods) {
        const result =
          codemod.codemod === 'replace-literal'
            ? await applyCodemod(repo, codemod, options)
            : await (workspace ??= RefactorWorkspace.open(repo)).apply(codemod, options);
        // Byte-exact: print adds the one final newline the diff already ends with (a trailing blank context line is ' ').
        if (options.dryRun && result.diff) io.print(result.diff.endsWith('\n') ? result.diff.slice(0, -1) : result.diff);
        const verb = result.alreadyApplied ? 'already applied' : options.dryRun ? 'would change' : 'changed';
        io.print(`${codemod.codemod}: ${verb} ${result.changedFiles.length} file(s)${result.changedFiles.length ? ': ' + result.changedFiles.join(', ') : ''}`);
        for (const figures of result.typeErrors?.byConfig ?? []) io.print(`  type errors (${figures.config}): ${figures.before} before, ${figures.after} after`);
        if (result.tests) io.print(`  tests (${result.tests.command}): ${result.tests.before.passed} passed, ${result.tests.before.failed} failed before; ${result.tests.after.passed} passed, ${result.tests.after.failed} failed after${result.tests.flaky.length ? `; flaky (failed once, passed on the re-run): ${result.tests.flaky.join('; ')}` : ''}`);
        if (result.publicApiChanges) io.print(`  public API: ${result.publicApiChanges.length === 0 ? 'unchanged' : 'changed in ' + result.publicApiChanges.join(', ')}`);
      }
      return 0;
    } catch (error) {
      if (error instanceof CodemodError) {
        io.print(`error: ${error.message}`);
        return 2;
      }
      throw error;
    }
  },
});
