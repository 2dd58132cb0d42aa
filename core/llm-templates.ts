/**
 * Templated answers for recurring tasks ("distilled prompt paths", issue 15): a prompt's shape is its text with
 * the parts that vary between runs of one task (versions, numbers, issue references, hashes, quoted code,
 * URLs, paths and package names) replaced by slots. When the cache holds enough answers to one shape and they
 * all agree, the answer does not depend on the slots, and the gateway serves it to the next prompt of that
 * shape without a call. Audits re-ask a sample and every audited answer joins the shape's answers: a disagreeing
 * one stops the template being served (llm/gateway.ts).
 */
import { normalizePrompt } from './llm-gateway';

/** Slot patterns, in order: a later pattern never sees what an earlier one replaced. */
const SLOTS: [RegExp, string][] = [
  [/\bhttps?:\/\/\S+/gi, '<url>'],
  [/`[^`]*`/g, '<code>'],
  // Quotes, not apostrophes: a quote opens and closes outside a word.
  [/"[^"]*"|(?<!\w)'[^'\n]+'(?!\w)/g, '<str>'],
  [/#\d+\b/g, '<ref>'],
  // At least one digit: 'defaced' is a word, not a hash.
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b/gi, '<hash>'],
  // Scoped packages, owner/repo, paths: a word with a slash in it.
  [/@?[\w.-]+(?:\/[\w.-]+)+/g, '<name>'],
  [/[~^<>=]*\bv?\d+(?:\.\d+)+(?:[-+][\w.]+)?|\bv\d+\b/gi, '<ver>'],
  [/\b\d+\b/g, '<num>'],
];

/** The shape of a prompt: normalized, lower-cased, each variable part a slot. */
export function promptShape(text: string): string {
  let shape = normalizePrompt(text).toLowerCase();
  for (const [pattern, slot] of SLOTS) shape = shape.replace(pattern, slot);
  return shape;
}

export type TemplateVerdict = { serve: true; answer: string } | { serve: false; reason: string };

/**
 * Whether the cached answers to one shape make a template: at least `minSupport` of them, every one agreeing
 * with the first (by the caller's `agree`, the same test the cache's audits use).
 */
export function distilTemplate(answers: readonly string[], agree: (a: string, b: string) => boolean, minSupport: number): TemplateVerdict {
  if (answers.length < minSupport) return { serve: false, reason: `${answers.length} answer(s) to this shape, ${minSupport} needed` };
  const [first] = answers as [string, ...string[]];
  const disagreeing = answers.filter((a) => !agree(first, a)).length;
  if (disagreeing > 0) return { serve: false, reason: `${disagreeing} of ${answers.length} answers to this shape disagree` };
  return { serve: true, answer: first };
}
