/**
 * Offline spec synthesis: turns a change request into Given/When/Then scenarios and acceptance
 * criteria without any model call, so the same request always yields the same spec (and ids).
 */
import { z } from 'zod';
import type { ChangeRequest } from './change-request';
import type { Spec, SpecScenario } from './stages';

const idPattern = (prefix: 'SPEC' | 'AC') => new RegExp(`^${prefix}-[a-z0-9][a-z0-9-]*-[1-9]\\d*$`);

export const specSchema = z
  .object({
    changeId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    title: z.string().min(1),
    scenarios: z
      .array(
        z
          .object({
            id: z.string().regex(idPattern('SPEC'), 'must look like SPEC-<change id>-<n>'),
            given: z.string().min(1),
            when: z.string().min(1),
            then: z.string().min(1),
          })
          .strict(),
      )
      .min(1),
    acceptanceCriteria: z
      .array(z.object({ id: z.string().regex(idPattern('AC'), 'must look like AC-<change id>-<n>'), text: z.string().min(1) }).strict())
      .min(1),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    for (const [key, items] of [['scenarios', spec.scenarios], ['acceptanceCriteria', spec.acceptanceCriteria]] as const)
      items.forEach((item, i) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id ${item.id}` });
        seen.add(item.id);
        if (!item.id.startsWith(`${key === 'scenarios' ? 'SPEC' : 'AC'}-${spec.changeId}-`))
          ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `must carry the change id ${spec.changeId}` });
      });
  });

/**
 * The statements of an intent: one per bullet or numbered item, and one per sentence in running
 * prose. Markdown emphasis/heading marks and trailing punctuation are dropped.
 */
export function intentStatements(intent: string): string[] {
  const statements: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    const text = paragraph.join(' ').trim();
    paragraph = [];
    // Split after . ! ? followed by whitespace and a capital/quote/digit, except after e.g./i.e./etc.; 'v1.2' stays whole.
    for (const sentence of text.split(/(?<!\b(?:e\.g|i\.e|etc|vs|cf)\.)(?<=[.!?])\s+(?=["'`(A-Z0-9])/)) statements.push(sentence);
  };
  for (const rawLine of intent.replace(/\r\n?/g, '\n').split('\n')) {
    const line = rawLine.trim();
    const bullet = /^(?:[-*+•]|\d+[.)])\s+(.*)$/.exec(line);
    if (line === '' || /^#{1,6}\s/.test(line)) {
      flush(); // headings title a section; they state no requirement of their own
    } else if (bullet) {
      flush();
      paragraph.push(bullet[1]!);
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return statements
    .map((s) => s.replace(/\s+/g, ' ').replace(/[.!?;:,\s]+$/, '').trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
}

function unquoteGitPath(p: string): string {
  const trimmed = p.replace(/\t.*$/, '').trim(); // '--- a/x\t2024-01-01' style timestamps
  if (trimmed.startsWith('"') && trimmed.endsWith('"')) return trimmed.slice(1, -1).replace(/\\(.)/g, '$1');
  return trimmed;
}

const stripSidePrefix = (p: string): string => p.replace(/^[ab]\//, '');

/** Paths a unified diff touches, from its `---`/`+++` headers (or `diff --git` when there are none), in order. */
export function filesTouchedByDiff(diff: string): string[] {
  const files: string[] = [];
  const add = (raw: string) => {
    const path = stripSidePrefix(unquoteGitPath(raw));
    if (path !== '/dev/null' && path !== '' && !files.includes(path)) files.push(path);
  };
  let gitHeaderNewPath: string | undefined;
  let oldPath: string | undefined;
  // Lines still expected in the current hunk, so a removed line '-- x' is not read as a '---' header.
  let oldLeft = 0;
  let newLeft = 0;
  const closeGitSection = () => {
    // Mode-only changes, binaries and pure renames have a `diff --git` line but no ---/+++ lines.
    if (gitHeaderNewPath !== undefined) add(gitHeaderNewPath);
    gitHeaderNewPath = undefined;
  };
  for (const line of diff.replace(/\r\n?/g, '\n').split('\n')) {
    if ((oldLeft > 0 || newLeft > 0) && /^[-+ \\]|^$/.test(line) && !line.startsWith('diff --git ')) {
      if (line.startsWith('-')) oldLeft--;
      else if (line.startsWith('+')) newLeft--;
      else if (!line.startsWith('\\')) {
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    // Anything else ends a hunk, even one whose header promised more lines (hand-edited diffs).
    oldLeft = newLeft = 0;
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      continue;
    }
    const git = /^diff --git (?:"[^"]*"|\S+) ("[^"]*"|\S+)$/.exec(line);
    if (git) {
      closeGitSection();
      gitHeaderNewPath = git[1]!;
      continue;
    }
    if (line.startsWith('--- ')) {
      oldPath = line.slice(4);
    } else if (line.startsWith('+++ ')) {
      gitHeaderNewPath = undefined; // the ---/+++ pair names the file more precisely
      const newPath = line.slice(4);
      // The new side names the file, unless it was deleted; then the old side does.
      add(unquoteGitPath(newPath) === '/dev/null' && oldPath !== undefined ? oldPath : newPath);
      oldPath = undefined;
    }
  }
  closeGitSection();
  return files;
}

function code(text: string): string {
  return '`' + text.replace(/`/g, "'") + '`';
}

function changeSummary(cr: ChangeRequest): string {
  const change = cr.change;
  if (change.kind === 'patch') {
    const files = filesTouchedByDiff(change.diff);
    return files.length > 0 ? `the patch touching ${files.map(code).join(', ')}` : 'the patch';
  }
  const mod = change.codemod;
  return mod.codemod === 'rename-symbol'
    ? `the codemod renaming ${code(mod.from)} to ${code(mod.to)} under ${code(mod.scope)}`
    : `the codemod replacing ${code(mod.from)} with ${code(mod.to)} in ${code(mod.file)}`;
}

/** Deterministic Given/When/Then scenarios and acceptance criteria for a change request. */
export function synthesizeSpecFromRequest(cr: ChangeRequest): Spec {
  const given = `service ${code(cr.service)} at the head of ${code(cr.baseBranch)}`;
  const when = `change ${code(cr.id)} (${changeSummary(cr)}) is applied`;
  const scenarios: Omit<SpecScenario, 'id'>[] = [];
  const criteria: string[] = [];

  // 1. What the author asked for, one scenario per statement of intent.
  const statements = intentStatements(cr.intent);
  for (const statement of statements.length > 0 ? statements : [cr.title]) {
    scenarios.push({ given, when, then: statement });
    criteria.push(statement);
  }

  // 2. What the change itself promises, from its kind.
  const change = cr.change;
  if (change.kind === 'patch') {
    const files = filesTouchedByDiff(change.diff);
    if (files.length > 0) {
      scenarios.push({
        given,
        when: `the patch for ${code(cr.id)} is applied to ${code(cr.baseBranch)}`,
        then: `it applies cleanly and changes exactly ${files.map(code).join(', ')}`,
      });
      criteria.push(`The candidate differs from ${code(cr.baseBranch)} only in ${files.map(code).join(', ')}`);
    }
  } else if (change.codemod.codemod === 'rename-symbol') {
    const { from, to, scope } = change.codemod;
    scenarios.push({
      given: `${given}, where ${code(from)} is referenced under ${code(scope)}`,
      when: `the codemod renames ${code(from)} to ${code(to)}`,
      then: `no reference to ${code(from)} remains under ${code(scope)} and every former reference now uses ${code(to)}`,
    });
    criteria.push(`Every reference to ${code(from)} under ${code(scope)} is renamed to ${code(to)}, and the project still type-checks`);
  } else {
    const { file, from, to } = change.codemod;
    scenarios.push({
      given: `${given}, where ${code(file)} contains ${code(from)}`,
      when: `the codemod replaces the literal`,
      then: `${code(file)} contains ${code(to)} where it contained ${code(from)} and is otherwise unchanged`,
    });
    criteria.push(`${code(file)} no longer contains ${code(from)}; it contains ${code(to)} in its place`);
  }

  // 3. Guard rails every change shares.
  for (const pattern of cr.protectedPaths) {
    scenarios.push({
      given: `${code(pattern)} is a protected path of ${code(cr.service)}`,
      when,
      then: `nothing matching ${code(pattern)} changes unless its owners approve`,
    });
    criteria.push(`Files matching ${code(pattern)} are unchanged, or their owners have approved the change`);
  }
  scenarios.push({ given, when, then: `the service's own test command passes on the candidate` });
  criteria.push(`The service's test command passes on the candidate`);
  criteria.push(`The eval harness score reaches its threshold and every rollout health gate passes`);

  return {
    changeId: cr.id,
    title: cr.title,
    scenarios: scenarios.map((s, i) => ({ id: `SPEC-${cr.id}-${i + 1}`, ...s })),
    acceptanceCriteria: criteria.map((text, i) => ({ id: `AC-${cr.id}-${i + 1}`, text })),
  };
}

/** The spec as Markdown, for PR descriptions and the run record. */
export function renderSpecMarkdown(spec: Spec): string {
  const lines = [`# Spec: ${spec.title}`, '', `Change \`${spec.changeId}\``, '', '## Scenarios', ''];
  for (const s of spec.scenarios) lines.push(`### ${s.id}`, '', `- **Given** ${s.given}`, `- **When** ${s.when}`, `- **Then** ${s.then}`, '');
  lines.push('## Acceptance criteria', '');
  for (const ac of spec.acceptanceCriteria) lines.push(`- [ ] **${ac.id}**: ${ac.text}`);
  return lines.join('\n') + '\n';
}
