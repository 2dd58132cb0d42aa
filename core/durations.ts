import { z } from 'zod';

/** Durations are milliseconds in the validated plan; input accepts '2s', '500ms', '1m' or a number of ms. */
export const durationMs = z.union(
  [
    z.number().int().positive(),
    z
      .string()
      .regex(/^\d+(ms|s|m)$/)
      .transform((s) => {
        const n = parseInt(s, 10);
        return s.endsWith('ms') ? n : s.endsWith('m') ? n * 60_000 : n * 1000;
      })
      // '0s' passes the regex; a zero probe interval or timeout is as invalid as the number 0.
      .refine((ms) => ms > 0, 'a duration must be longer than 0'),
  ],
  // A string matching neither branch fails the union as a whole (its only own issue): say what a duration looks like.
  { errorMap: () => ({ message: "use a duration like '500ms', '2s' or '1m', or a number of milliseconds" }) },
);
