import { ownersOf, parseCodeowners } from '../../../codegraph/codeowners';

describe('CODEOWNERS patterns', () => {
  const rules = parseCodeowners(
    [
      '*.ts @ts',
      'docs/ @docs',
      '/build/ @build',
      'src/a?c.js @wild',
      'lib/*.{js,mjs} @lib',
      'assets/[!x]*.png @art',
      'vendor/** @vendor',
      '!keep.md @bang',
    ].join('\n'),
  );
  it.each([
    ['src/x.ts', ['@ts']],
    ['deep/er/x.ts', ['@ts']], // a pattern without a slash matches at any depth
    ['docs/a.md', ['@docs']],
    ['pkg/docs/a.md', ['@docs']],
    ['docs', []], // 'docs/' names a directory: what is inside it
    ['build/out.js', ['@build']],
    ['pkg/build/out.js', []], // a leading slash anchors
    ['src/abc.js', ['@wild']], // '?' is a wildcard in CODEOWNERS
    ['src/a/c.js', []], // within one segment
    ['lib/x.mjs', ['@lib']],
    ['lib/x.cjs', []],
    ['assets/logo.png', ['@art']],
    ['assets/xlogo.png', []],
    ['vendor/a/b.js', ['@vendor']],
    ['vendor', []],
    ['keep.md', []], // a leading '!' is not a negation
    ['!keep.md', ['@bang']],
    ['.github/x.ts', ['@ts']], // dot directories are ordinary
  ])('%s → %j', (file, owners) => {
    expect(ownersOf(rules, file)).toEqual(owners);
  });
});
