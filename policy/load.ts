/** Reading policy files (YAML) from disk; validation is core's (core/policy-rules/config.ts). */
import fs from 'node:fs';
import { compilePolicy, parsePolicyYaml, PolicyConfigError, type CompiledPolicy } from '../core/policy-rules';

export function loadPolicyFile(file: string): CompiledPolicy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyConfigError(`cannot read policy file ${file}: ${(err as Error).message}`);
  }
  return compilePolicy(parsePolicyYaml(text, file));
}
