/**
 * The code graph's view of the symbols a change touches, for the offline spec (SpecActivityDeps.symbolsFor).
 *
 * Wiring (activities/index.ts owns it): share the code-graph service so the base branch is ingested once,
 *
 *   const graph = new CodeGraphService();
 *   createSpecActivities({ ..., symbolsFor: codegraphSymbolsFor(graph) })
 *
 * `codegraphSymbolsFor` analyses `cr.repo` at `cr.baseBranch` (the graph the change lands on) and, for the
 * files the change touches, lists their exported symbols (the graph's DECLARES: exported functions, classes
 * and their methods) with the number of other files depending on them — the same edges blastRadius and
 * dependentsOf (the `graph blast-radius` / `graph dependents` queries) read.
 */
import type { ChangeRequest } from '../core/change-request';
import { filesTouchedByDiff, type TouchedSymbols } from '../core/spec';
import { dependentsOf, findSymbols, type GraphIndex } from '../codegraph/analysis';
import type { CodeGraphService } from '../codegraph/service';

/** Files of `index` a change request touches, from its diff or its codemod's declared targets. */
export function filesTouchedByRequest(index: GraphIndex, cr: ChangeRequest): string[] {
  if (cr.change.kind === 'patch') return filesTouchedByDiff(cr.change.diff);
  // Known only once prepareChange has read the ref in the repository.
  if (cr.change.kind === 'ref') return [];
  const mod = cr.change.codemod;
  switch (mod.codemod) {
    case 'replace-literal':
    case 'move-function':
      return [mod.file];
    case 'move-file':
      return [mod.from];
    case 'add-parameter':
      return mod.file ? [mod.file] : [...new Set(findSymbols(index, mod.class ? `${mod.class}.${mod.function}` : mod.function).map((id) => index.symbols.get(id)!.file))];
    case 'rename-method':
    case 'rename-function':
    case 'rename-class':
    case 'rename-symbol': {
      if ('file' in mod && mod.file) return [mod.file];
      const query = mod.codemod === 'rename-method' && mod.class ? `${mod.class}.${mod.from}` : mod.from;
      return [...new Set(findSymbols(index, query).map((id) => index.symbols.get(id)!.file))];
    }
    case 'replace-call':
      return [];
  }
}

/**
 * Exported symbols of `files` with their dependents: distinct other files that reference one of them or
 * hold a (transitive) caller of one. Files the graph does not know, or that export nothing, are left out.
 */
export function touchedSymbolsFromGraph(index: GraphIndex, files: readonly string[]): TouchedSymbols[] {
  const out: TouchedSymbols[] = [];
  for (const file of [...new Set(files)].sort()) {
    const ids = index.declares.get(file) ?? [];
    if (ids.length === 0) continue;
    const dependents = new Set<string>();
    for (const id of ids) {
      const d = dependentsOf(index, id);
      for (const f of d.referencingFiles) dependents.add(f);
      for (const caller of d.transitiveCallers) {
        const f = index.symbols.get(caller)?.file;
        if (f) dependents.add(f);
      }
    }
    dependents.delete(file);
    out.push({ file, symbols: ids.map((id) => index.symbols.get(id)!.name).sort(), dependents: dependents.size });
  }
  return out;
}

/** `symbolsFor` over the code-graph service: the base branch's graph, the touched files' exported symbols. */
export function codegraphSymbolsFor(service: Pick<CodeGraphService, 'analyse'>): (cr: ChangeRequest) => Promise<TouchedSymbols[]> {
  return async (cr) => {
    const { index } = await service.analyse(cr.repo, cr.baseBranch);
    return touchedSymbolsFromGraph(index, filesTouchedByRequest(index, cr));
  };
}
