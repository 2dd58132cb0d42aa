/** Exit codes (README.md) and the error that carries one; free of the Temporal client so any command may throw it. */
/** Exit codes; a shadowed train exits as its change would have: 0 if allowed, `denied` if not (cli/release.ts exitCodeFor). */
export const EXIT = { promoted: 0, usage: 2, unreachable: 3, notFound: 4, rolled_back: 10, denied: 11, aborted: 12, failed: 13 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
