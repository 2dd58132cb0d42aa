import { PermanentError } from '../core/errors';
import { serviceDescriptorSchema, type ServiceDescriptor } from '../core/stages';
import { parseOrThrow, ValidationError } from '../core/validation';
import { git } from '../io/git';

export const SERVICE_DESCRIPTOR_FILE = 'maestro.service.json';

/** Reads and validates the candidate's maestro.service.json from the commit itself (not from any work tree). */
export async function readServiceDescriptor(repo: string, sha: string): Promise<ServiceDescriptor> {
  const shown = await git(repo, ['show', `${sha}:${SERVICE_DESCRIPTOR_FILE}`], { allowExitCodes: [128] });
  if (shown.exitCode !== 0)
    throw new PermanentError(`${SERVICE_DESCRIPTOR_FILE} is missing at the root of ${sha.slice(0, 12)}`, 'InvalidServiceDescriptor');
  let json: unknown;
  try {
    json = JSON.parse(shown.stdout);
  } catch (error) {
    throw new PermanentError(`${SERVICE_DESCRIPTOR_FILE} is not valid JSON: ${(error as Error).message}`, 'InvalidServiceDescriptor');
  }
  try {
    return parseOrThrow(serviceDescriptorSchema, json, SERVICE_DESCRIPTOR_FILE);
  } catch (error) {
    if (error instanceof ValidationError)
      throw new PermanentError(error.message, 'InvalidServiceDescriptor', { issues: error.issues });
    throw error;
  }
}
