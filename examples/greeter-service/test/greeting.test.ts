import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_NAME, MAX_NAME_LENGTH, greet, normalizeName } from '../src/greeting';

test('greets by name', () => {
  assert.deepEqual(greet('Ada'), { ok: true, greeting: { name: 'Ada', message: 'Hello, Ada!' } });
});

test('greets the world when no name is given', () => {
  for (const missing of [undefined, null, '', '   ']) {
    const outcome = greet(missing);
    assert.ok(outcome.ok);
    assert.equal(outcome.greeting.name, DEFAULT_NAME);
    assert.equal(outcome.greeting.message, 'Hello, world!');
  }
});

test('normalizes whitespace in names', () => {
  assert.equal(normalizeName('  Grace \t Hopper '), 'Grace Hopper');
});

test('accepts names in any script', () => {
  const outcome = greet('Zoë Ångström-名前');
  assert.ok(outcome.ok);
  assert.equal(outcome.greeting.message, 'Hello, Zoë Ångström-名前!');
});

test('rejects names longer than the limit', () => {
  assert.equal(greet('a'.repeat(MAX_NAME_LENGTH)).ok, true);
  assert.equal(greet('a'.repeat(MAX_NAME_LENGTH + 1)).ok, false);
});

test('rejects markup-like names', () => {
  assert.equal(greet('<script>').ok, false);
});
