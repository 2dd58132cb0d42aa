/** `maestro refactor apply <codemod.json> --repo <dir> [--dry-run] [--test CMD] [--no-typecheck] [--check-api]` */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CodemodError, parseCodemod, RefactorWorkspace, applyCodemod } from '../../refactor';
import { ValidationError } from '../../core/validation';

export const REFACTOR_USAGE = `maestro refactor apply <codemod.json> --repo <dir> [--dry-run] [--test "<command>"] [--no-typecheck] [--check-api]
  codemod.json holds one codemod or an array of them (applied in order on one loaded project), e.g.
  {"codemod":"rename-method","class":"Shape","from":"area","to":"surface"}
  kinds: rename-symbol, rename-function, rename-class, rename-method, move-file, move-function,
         add-parameter, replace-call, replace-literal`;

export async function refactorCommand(argv: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      repo: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      test: { type: 'string' },
      'no-typecheck': { type: 'boolean', default: false },
      'check-api': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [sub, file] = positionals;
  if (values.help) return print(REFACTOR_USAGE), 0;
  if (sub !== 'apply' || !file || !values.repo) return print(REFACTOR_USAGE), 2;
  let codemods;
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    codemods = (Array.isArray(data) ? data : [data]).map(parseCodemod);
  } catch (error) {
    print(`error: ${file}: ${error instanceof ValidationError || error instanceof SyntaxError ? error.message : (error as Error).message}`);
    return 2;
  }
  const options = {
    dryRun: values['dry-run'],
    typecheck: !values['no-typecheck'],
    ...(values['check-api'] ? { checkPublicApi: true } : {}),
    ...(values.test ? { testCommand: values.test } : {}),
  };
  try {
    let workspace: RefactorWorkspace | undefined;
    for (const codemod of codemods) {
      const result =
        codemod.codemod === 'replace-literal'
          ? await applyCodemod(values.repo, codemod, options)
          : await (workspace ??= RefactorWorkspace.open(values.repo)).apply(codemod, options);
      if (options.dryRun && result.diff) print(result.diff.trimEnd());
      const verb = result.alreadyApplied ? 'already applied' : options.dryRun ? 'would change' : 'changed';
      print(`${codemod.codemod}: ${verb} ${result.changedFiles.length} file(s)${result.changedFiles.length ? ': ' + result.changedFiles.join(', ') : ''}`);
      if (result.typeErrors) print(`  type errors: ${result.typeErrors.before} before, ${result.typeErrors.after} after`);
      if (result.publicApiChanges) print(`  public API: ${result.publicApiChanges.length === 0 ? 'unchanged' : 'changed in ' + result.publicApiChanges.join(', ')}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof CodemodError) {
      print(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
