import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insertPerson, personFromRow, SCHEMA_VERSION, selectPerson } from '../src/people';

test('this version reads and writes people through its own schema of views', () => {
  assert.equal(SCHEMA_VERSION, 'v1');
});

test('a person is stored and read back by id', () => {
  assert.deepEqual(insertPerson('Ada Lovelace'), { text: 'INSERT INTO people (name) VALUES ($1) RETURNING id::text AS id, name', values: ['Ada Lovelace'] });
  assert.deepEqual(selectPerson('42'), { text: 'SELECT id::text AS id, name FROM people WHERE id = $1', values: ['42'] });
});

test('a row becomes the person the API answers with', () => {
  assert.deepEqual(personFromRow({ id: '7', name: 'Grace Hopper' }), { id: '7', name: 'Grace Hopper' });
});
