import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../../../cli/command';
import { command } from '../../../../cli/commands/gates';

const run = async (argv: string[]) => {
  const out: string[] = [];
  const code = await runCommand(command, argv, { print: (l) => out.push(l), error: (l) => out.push(l) });
  return { code, text: out.join('\n') };
};

test('prints the default plan, and a change file’s plan with its risk bands, metric templates and tripwire', async () => {
  const defaults = await run([]);
  expect(defaults.code).toBe(0);
  expect(defaults.text).toMatch(/^rollout plan \(the defaults\):\n1\. setWeight 10% → gate: probe every 5000ms/);
  expect(defaults.text).toContain('risk bands: off');
  expect(defaults.text).toContain('request-success-rate ≥ 99 over 30s');

  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gates-')), 'change.json');
  fs.writeFileSync(file, JSON.stringify({ rollout: { byRisk: {}, tripwire: {} } }));
  const shaped = await run([file]);
  expect(shaped.code).toBe(0);
  expect(shaped.text).toContain('above 0.6 up to 1: steps 5 → 25 → 50 → 100%, 6 green probes per step');
  expect(shaped.text).toMatch(/tripwire: roll back at once on 3 canary errors/);

  fs.writeFileSync(file, JSON.stringify({ rollout: { steps: [{ setWeight: 50 }, { setWeight: 10 }] } }));
  // The CLI's entry prints a ValidationError as the list of fields and exits non-zero.
  await expect(run([file])).rejects.toThrow("steps.1.setWeight: must be greater than the previous step's 50");
  const missing = await run(['/no/such/file.json']);
  expect(missing.code).toBe(2);
  expect(missing.text).toMatch(/cannot read change file \/no\/such\/file.json/);
});
