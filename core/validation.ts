import { z } from 'zod';
import { InvalidInputError } from './errors';

/** Input that failed its schema; names every bad field path. */
export class ValidationError extends InvalidInputError {
  constructor(
    readonly subject: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`invalid ${subject}:\n` + issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n'));
  }
}

/** Parses with a zod schema and turns failures into a ValidationError that lists field paths. */
export function parseOrThrow<S extends z.ZodTypeAny>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(subject, describeIssues(result.error));
}

/** Each zod issue as its field path and what is allowed there. */
export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: describeIssue(issue) }));
}

function describeIssue(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'invalid_enum_value':
      return `got '${String(issue.received)}', allowed: ${issue.options.map((o) => `'${String(o)}'`).join(', ')}`;
    case 'invalid_union_discriminator':
      return `allowed: ${issue.options.map((o) => `'${String(o)}'`).join(', ')}`;
    case 'invalid_type':
      return issue.received === 'undefined' ? `required (${issue.expected})` : `expected ${issue.expected}, got ${issue.received}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    default:
      return issue.message;
  }
}
