/** Pure greeting logic: no I/O, so the tests cover every rule here directly. */

export const DEFAULT_NAME = 'world';
export const MAX_NAME_LENGTH = 64;

export interface Greeting {
  name: string;
  message: string;
}

export type GreetingOutcome = { ok: true; greeting: Greeting } | { ok: false; error: string };

/** Collapses inner whitespace and trims; an absent or blank name means the default. */
export function normalizeName(rawName: string | null | undefined): string {
  const collapsed = (rawName ?? '').replace(/\s+/g, ' ').trim();
  return collapsed === '' ? DEFAULT_NAME : collapsed;
}

/** Letters (any script), digits, spaces, apostrophes, dots and dashes: enough for real names, nothing markup-like. */
const ALLOWED_NAME = /^[\p{L}\p{M}\p{N} .'-]+$/u;

export function greet(rawName: string | null | undefined): GreetingOutcome {
  const name = normalizeName(rawName);
  if ([...name].length > MAX_NAME_LENGTH) return { ok: false, error: `name must be at most ${MAX_NAME_LENGTH} characters` };
  if (!ALLOWED_NAME.test(name)) return { ok: false, error: 'name may contain only letters, digits, spaces and . \' -' };
  return { ok: true, greeting: { name, message: `Hello, ${name}!` } };
}
