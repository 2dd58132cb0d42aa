/** The codemods moved to activities/refactor (RefactorSurgeon); this re-export keeps old imports working. */
export { applyCodemod, CodemodError, resolveInsideRepo, type CodemodResult } from '../refactor';
