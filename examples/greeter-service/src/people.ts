/**
 * The `people` table as this version of the greeter reads and writes it: the SQL and the row mapping, no
 * I/O (src/database.ts runs the queries). Every version reads and writes through its own schema of views,
 * `public_<SCHEMA_VERSION>`, so the running version and its canary both work while a migration changes
 * the table underneath them (migrations/ and Maestro's expand/contract).
 */

/** The schema version this code is written against; its connections use `search_path = public_<version>`. */
export const SCHEMA_VERSION = 'v1';

export interface Person {
  id: string;
  name: string;
}

export interface Query {
  text: string;
  values: unknown[];
}

export interface PersonRow {
  id: string;
  name: string;
}

export function insertPerson(name: string): Query {
  return { text: 'INSERT INTO people (name) VALUES ($1) RETURNING id::text AS id, name', values: [name] };
}

export function selectPerson(id: string): Query {
  return { text: 'SELECT id::text AS id, name FROM people WHERE id = $1', values: [id] };
}

export function personFromRow(row: PersonRow): Person {
  return { id: row.id, name: row.name };
}
