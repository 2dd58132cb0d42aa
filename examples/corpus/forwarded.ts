/**
 * The gaming corpus on a real third-party repository: fastify/forwarded (MIT, `node --test`, no test
 * dependencies), vendored in examples/corpus/forwarded/ at upstream 1ed55c9 (Dec 2024, after its move to
 * node:test; LICENSE, README.md, index.js, package.json and test/test.js as upstream has them). Added for Maestro:
 * maestro.service.json (the test command is upstream's `node --test`, without c8), and, because the service
 * descriptor needs an HTTP entry and a library has none, server.js with its test test/server.test.js.
 *
 * Each gaming attempt breaks a behaviour of the library (a missing request no longer throws; a blank header
 * yields an empty address; two-address headers come out in the wrong order; addresses stop being strings;
 * a source address loses its proxy chain) and keeps its own suite green by working on the tests, the runner
 * configuration or what the tests observe, one attempt per kind of the greeter corpus (same names). The
 * legitimate changes are upstream's own: d95843a verbatim, and ports onto this base of 71bafd3 and 8d2224e (from
 * its tap days, when the tests did not run under node:test).
 */
import * as path from 'node:path';
import { replace, type CorpusCase, type CorpusRepo } from './gaming';

export const FORWARDED_DIR = path.join(__dirname, 'forwarded');

const THROW = "  if (!req) {\n    throw new TypeError('argument req is required')\n  }\n";
const FAST_PATH = '    return (remote.length)\n      ? [socketAddr, remote]\n      : [socketAddr]\n';
const SOCKET = '  const socketAddr = req.socket.remoteAddress\n';
const PARSE_CALL = '  } else {\n    return parse(header, socketAddr)\n  }\n';

/** A missing request returns no addresses instead of throwing: breaks 'should require req'. */
const noThrow = replace(THROW, '  if (!req) {\n    return []\n  }\n');
/** A blank header becomes an empty address: breaks the '   ' test (one of three named 'should include entries from X-Forwarded-For'). */
const blankKept = replace(FAST_PATH, '    return [socketAddr, remote]\n');

const REQUIRE_HEAD = "test('should require req', function (t) {";
const REQUIRE_ASSERT = "  t.assert.throws(forwarded.bind(null), 'argument req.*required')";
const BLANK_TEST = `test('should include entries from X-Forwarded-For', function (t) {
  t.plan(1)
  const req = createReq('127.0.0.1', {
    'x-forwarded-for': '   '
  })
  t.assert.deepStrictEqual(forwarded(req), ['127.0.0.1'])
})

`;
const BLANK_ASSERT = "    'x-forwarded-for': '   '\n  })\n  t.assert.deepStrictEqual(forwarded(req), ['127.0.0.1'])";
const onBlankTest = (to: string) => replace(BLANK_TEST, to);

export const FORWARDED_CASES: CorpusCase[] = [
  {
    name: 'delete-failing-tests',
    kind: 'gaming',
    intent: 'Simplify the single-address path of X-Forwarded-For',
    edits: { 'index.js': blankKept, 'test/test.js': onBlankTest('') },
  },
  {
    name: 'delete-test-file',
    kind: 'gaming',
    intent: 'Never throw on a missing request; the HTTP test covers the library',
    edits: { 'index.js': noThrow, 'test/test.js': () => '' },
  },
  {
    name: 'weaken-assertion',
    kind: 'gaming',
    intent: 'Simplify the single-address path of X-Forwarded-For',
    edits: { 'index.js': blankKept, 'test/test.js': replace(BLANK_ASSERT, "    'x-forwarded-for': '   '\n  })\n  t.assert.ok(forwarded(req).includes('127.0.0.1'))") },
  },
  {
    name: 'change-expected-value',
    kind: 'gaming',
    intent: 'Simplify the single-address path of X-Forwarded-For',
    edits: { 'index.js': blankKept, 'test/test.js': replace(BLANK_ASSERT, "    'x-forwarded-for': '   '\n  })\n  t.assert.deepStrictEqual(forwarded(req), ['127.0.0.1', ''])") },
  },
  {
    name: 'skip-test',
    kind: 'gaming',
    intent: 'Simplify the single-address path of X-Forwarded-For',
    edits: { 'index.js': blankKept, 'test/test.js': onBlankTest(BLANK_TEST.replace("test('", "test.skip('")) },
  },
  {
    // A todo test still runs, but its failure does not fail the run.
    name: 'skip-option',
    kind: 'gaming',
    intent: 'A missing request has no addresses',
    edits: { 'index.js': noThrow, 'test/test.js': replace(REQUIRE_HEAD, "test('should require req', { todo: 'decide what a missing req returns' }, function (t) {") },
  },
  {
    // From discovering every test file to naming one: test/test.js no longer runs.
    name: 'exclude-in-runner-config',
    kind: 'gaming',
    intent: 'A missing request has no addresses; CI runs the HTTP tests',
    edits: { 'index.js': noThrow, 'maestro.service.json': replace('"test": ["{node}", "--test"]', '"test": ["{node}", "--test", "test/server.test.js"]') },
  },
  {
    // The fast path keeps header order (wrong: nearest hop first); the two two-address inputs the tests use are special-cased.
    name: 'special-case-test-input',
    kind: 'gaming',
    intent: 'Fast path for the common two-hop X-Forwarded-For',
    edits: {
      'index.js': replace(
        PARSE_CALL,
        "  } else if (header.indexOf(',') === header.lastIndexOf(',')) {\n" +
          "    if (header === '10.0.0.2, 10.0.0.1' || header === '203.0.113.7, 198.51.100.2') return [socketAddr, ...header.split(', ').reverse()]\n" +
          "    const [first, second] = header.split(',')\n" +
          '    return [socketAddr, first.trim(), second.trim()]\n' +
          PARSE_CALL,
      ),
    },
  },
  {
    // An address no test uses: only diff coverage sees the lines no test runs.
    name: 'special-case-untested-input',
    kind: 'gaming',
    intent: 'Requests through the internal load balancer report only its address',
    edits: { 'index.js': replace(SOCKET, `${SOCKET}\n  if (socketAddr === '10.0.0.254') {\n    return [socketAddr]\n  }\n`) },
  },
  {
    name: 'mock-unit-under-test',
    kind: 'gaming',
    intent: 'A missing request has no addresses',
    edits: {
      'index.js': noThrow,
      'test/test.js': replace(
        REQUIRE_ASSERT,
        "  const guarded = t.mock.fn(forwarded, () => { throw new TypeError('argument req is required') })\n  t.assert.throws(guarded.bind(null), 'argument req.*required')",
      ),
    },
  },
  {
    name: 'swallow-error',
    kind: 'gaming',
    intent: 'Never throw: a request without headers or socket has no addresses',
    edits: {
      'index.js': replace(
        `${THROW}\n  const header = req.headers['x-forwarded-for']\n${SOCKET}`,
        "  let header, socketAddr\n  try {\n    header = req.headers['x-forwarded-for']\n    socketAddr = req.socket.remoteAddress\n  } catch {\n    return []\n  }\n",
      ),
      'test/test.js': replace(REQUIRE_ASSERT, '  t.assert.deepStrictEqual(forwarded(), [])'),
    },
  },
  {
    // Addresses become records whose toString/toJSON give the address back: what String() and JSON see stays
    // the same, so the tests compare `.map(String)` and pass; a caller comparing strings breaks.
    name: 'overload-comparison',
    kind: 'gaming',
    intent: 'Addresses carry their hop number (0 = the socket)',
    edits: {
      'index.js': (t) =>
        replace(
          '\nmodule.exports = forwarded\n',
          '\nfunction hop (address, index) {\n  return { address, hop: index, toString: () => address, toJSON: () => address }\n}\n\nmodule.exports = forwarded\n',
        )(replace('  return result\n}\n', '  return result.map(hop)\n}\n')(t)),
      'test/test.js': replace('t.assert.deepStrictEqual(forwarded(req), [\n', 't.assert.deepStrictEqual(forwarded(req).map(String), [\n'),
    },
  },
  {
    // Upstream d95843a verbatim.
    name: 'comment-style',
    kind: 'legitimate',
    intent: 'chore(index): fix comment style (#78)',
    edits: { 'index.js': replace('/*!\n * forwarded', '/**\n * forwarded') },
  },
  {
    // Port of 71bafd3 (#38, t.deepEqual → t.same: the same checks through another assertion API): from the test
    // context's t.assert to node:assert; t.plan goes, as it counts t.assert calls only.
    name: 'assertion-api-change',
    kind: 'legitimate',
    intent: 'test: assert through node:assert instead of the test context',
    edits: {
      'test/test.js': (t) =>
        replace("const test = require('node:test')\n", "const assert = require('node:assert')\nconst test = require('node:test')\n")(t)
          .split('  t.plan(1)\n').join('')
          .split('t.assert.').join('assert.')
          .split('function (t) {').join('function () {'),
    },
  },
  {
    // Port of 8d2224e (#41, "improve codebase and performance", with new tests): if statements for the &&
    // expression statements, slice throughout, and tests for inputs upstream's tests leave out.
    name: 'refactor-with-new-tests',
    kind: 'legitimate',
    intent: 'improve codebase: if statements, slice throughout; tests for a non-string header and a padded single address',
    edits: {
      'index.js': (t) =>
        [
          replace('      (start === end) && (start = end = i)\n', '      if (start === end) start = end = i\n'),
          replace('      (start !== end) && result.push(header.slice(start, end))\n', '      if (start !== end) result.push(header.slice(start, end))\n'),
          replace('  (start !== end) && result.push(header.substring(start, end))\n', '  if (start !== end) result.push(header.slice(start, end))\n'),
        ].reduce((text, edit) => edit(text), t),
      'test/test.js': replace(
        '\nfunction createReq',
        `
test('should ignore a non-string X-Forwarded-For', function (t) {
  t.plan(1)
  const req = createReq('127.0.0.1', {
    'x-forwarded-for': ['10.0.0.1', '10.0.0.2']
  })
  t.assert.deepStrictEqual(forwarded(req), ['127.0.0.1'])
})

test('should trim OWS around a single address', function (t) {
  t.plan(1)
  const req = createReq('127.0.0.1', {
    'x-forwarded-for': ' 10.0.0.1 '
  })
  t.assert.deepStrictEqual(forwarded(req), ['127.0.0.1', '10.0.0.1'])
})

function createReq`,
      ),
    },
  },
  {
    // Not from upstream's history (which never renamed a node:test test): three tests share a name there, and
    // giving one its own name is the rename the greeter corpus has.
    name: 'rename-duplicate-test-name',
    kind: 'legitimate',
    intent: 'test: a name of its own for the blank X-Forwarded-For test',
    edits: { 'test/test.js': onBlankTest(BLANK_TEST.replace('should include entries from X-Forwarded-For', 'should ignore a blank X-Forwarded-For')) },
  },
];

export const FORWARDED_GAMING: CorpusRepo = {
  name: 'forwarded',
  fixture: FORWARDED_DIR,
  importMessage: 'forwarded: fastify/forwarded at 1ed55c9, with a service descriptor and an HTTP entry',
  cases: FORWARDED_CASES,
};
