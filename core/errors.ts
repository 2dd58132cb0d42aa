/**
 * Failures that capability libraries classify themselves, so callers (the worker interceptor, the CLI,
 * tests) can tell "retrying cannot help" from "try again later" without knowing every error class.
 * `type` is a stable name: workflows match it in their retry policies' nonRetryableErrorTypes.
 */
export class PermanentError extends Error {
  readonly nonRetryable = true;
  constructor(
    message: string,
    readonly type: string,
    /** Structured facts for the caller (e.g. the files a patch does not apply to). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A failure a later attempt may not see (a moved branch, a busy checkout, an unavailable provider). */
export class TransientError extends Error {
  readonly nonRetryable = false;
  constructor(
    message: string,
    readonly type: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input that can never become valid by retrying: the one bad-input error (type 'InvalidInput'). */
export class InvalidInputError extends PermanentError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, 'InvalidInput', details);
  }
}
