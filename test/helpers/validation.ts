import { ValidationError } from '../../core/validation';

/** The issues a validating call reports (path and message of each), or none when it accepts the input. */
export function validationIssues(call: () => unknown): { path: string; message: string }[] {
  try {
    call();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  return [];
}
