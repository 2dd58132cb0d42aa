/**
 * Likely credentials in the lines a diff adds. Used by the secrets-in-diff policy rule and at every
 * entry of a change request (CLI and workflow), so a patch carrying one is refused before anything runs.
 */
import { addedLines } from './diff';
import { matchesPathPattern } from './policy-rules/paths';

/** Well-known credential shapes; the match is never echoed, only its kind, place and a short prefix. */
export const SECRET_PATTERNS: readonly { name: string; regex: string }[] = [
  { name: 'AWS access key id', regex: '\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b' },
  { name: 'AWS secret access key', regex: 'secret_?access_?key["\']?\\s*[:=]\\s*["\'][A-Za-z0-9/+]{40}["\']' },
  { name: 'private key', regex: '-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY( BLOCK)?-----' },
  { name: 'GitHub token', regex: '\\bgh[pousr]_[A-Za-z0-9]{36,}\\b' },
  { name: 'Slack token', regex: '\\bxox[abposr]-[A-Za-z0-9-]{10,}' },
  { name: 'OpenAI/Anthropic API key', regex: '\\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}' },
  { name: 'credential in a URL', regex: '[a-z][a-z0-9+.-]*://[^\\s:/@]+:[^\\s@/]{3,}@' },
  { name: 'hard-coded secret', regex: '(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)["\']?\\s*[:=]\\s*["\'][^"\'\\s]{8,}["\']' },
];

export function redactSecret(match: string): string {
  return `${match.slice(0, 4)}… (${match.length} chars, redacted)`;
}

export interface SecretFinding {
  file: string;
  line: number;
  kind: string;
  /** Kind, place and a short prefix: never the secret itself. */
  redacted: string;
}

/** Likely secrets on the lines a unified diff adds (paths matching `ignorePaths` skipped). */
export function findSecrets(diff: string, extraPatterns: readonly { name: string; regex: string }[] = [], ignorePaths: readonly string[] = []): SecretFinding[] {
  const patterns = [...SECRET_PATTERNS, ...extraPatterns].map((p) => ({ name: p.name, re: new RegExp(p.regex, 'i') }));
  const found: SecretFinding[] = [];
  for (const line of addedLines(diff)) {
    if (ignorePaths.some((p) => matchesPathPattern(line.file, p))) continue;
    for (const { name, re } of patterns) {
      const m = re.exec(line.text);
      if (!m) continue;
      found.push({ file: line.file, line: line.line, kind: name, redacted: `${line.file}:${line.line}: ${name}: ${redactSecret(m[0])}` });
      break;
    }
  }
  return found;
}
