import fc from 'fast-check';
import { esc, trendLine } from '../../../dashboard/html';
import { trainPage } from '../../../dashboard/pages';
import { explainTrain } from '../../../core/explain';
import type { TrainDossier } from '../../../core/dossier';

test('user text never becomes markup', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      expect(esc(s)).not.toMatch(/[<>"']/);
      expect(esc(s).replace(/&(lt|gt|quot|#39|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!)).toBe(s);
    }),
  );
  const title = '<img src=x onerror=alert(1)>';
  const d: TrainDossier = {
    train: { id: 't"1', changeId: 'c', title, repo: '/r', service: 's', environment: 'dev', author: '<b>', state: 'closed', outcome: 'failed', reason: '<script>', candidateSha: null, mergeSha: null, startedAt: '2026-12-01T00:00:00.000Z', closedAt: null },
    stages: [], evals: [], risk: [], decisions: [], appeals: [], provenance: [], costs: [], audit: [],
  };
  const html = trainPage(d, explainTrain(d));
  expect(html).not.toContain(title);
  expect(html).not.toContain('<script>');
  expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
});

test('a trend line has a point per value and a gap where a bucket had none', () => {
  const svg = trendLine([1, 2, null, 4], 'mttr');
  expect(svg.match(/<circle/g)).toHaveLength(3);
  expect(svg.match(/<polyline/g)).toHaveLength(2);
  expect(svg).toContain('data-points="3"');
  expect(trendLine([null, null], 'x')).toContain('data-points="0"');
  expect(trendLine([5], 'x')).toContain('<title>x: 5</title>');
});
