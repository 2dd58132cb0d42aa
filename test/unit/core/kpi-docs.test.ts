import fs from 'node:fs';
import path from 'node:path';
import { KPI_DEFINITIONS } from '../../../core/kpi';

test('docs/kpis.md states every KPI with the definition and target the code computes', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../../docs/kpis.md'), 'utf8');
  for (const k of KPI_DEFINITIONS) expect(doc).toContain(`| \`${k.id}\` | ${k.name} | ${k.definition} | ${k.target} |`);
});
