import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkspaceFileError } from '../../lib/errors.ts';
import { schemaMigrations } from '../../lib/store/schema-migrations.ts';
import { openWorkspaceDatabase, openWorkspaceDatabaseForReading } from '../../lib/store/workspace-database.ts';

let directory: string;
const now = () => Date.parse('2026-12-01T00:00:00Z');

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'chargen-database-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('openWorkspaceDatabase', () => {
  it('creates the database in WAL mode with foreign keys, a busy timeout and the latest schema version', () => {
    const database = openWorkspaceDatabase({ path: join(directory, 'nested', 'state.sqlite'), now });
    expect(database.connection.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.connection.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(database.connection.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(1000);
    expect(database.connection.pragma('synchronous', { simple: true })).toBe(2);
    const versions = database.connection.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
    expect(versions).toEqual(schemaMigrations.map((migration) => migration.version));
    database.close();
  });

  it('applies each migration once: a new step runs on the next open, the old ones are not run again', () => {
    const path = join(directory, 'state.sqlite');
    const first = [{ version: 1, sql: 'CREATE TABLE items (name TEXT PRIMARY KEY) STRICT' }];
    openWorkspaceDatabase({ path, now, migrations: first }).close();
    const second = [...first, { version: 2, sql: 'ALTER TABLE items ADD COLUMN size INTEGER' }];
    const database = openWorkspaceDatabase({ path, now, migrations: second });
    database.connection.prepare('INSERT INTO items (name, size) VALUES (?, ?)').run('a', 1);
    expect(database.connection.prepare('SELECT count(*) FROM schema_version').pluck().get()).toBe(2);
    database.close();
  });

  it('a reader sees an older database only when its tables are the same there (readableFrom), without migrating it', () => {
    const path = join(directory, 'checkpoints.sqlite');
    const first = [{ version: 1, sql: 'CREATE TABLE items (name TEXT PRIMARY KEY) STRICT' }];
    const written = openWorkspaceDatabase({ path, now, migrations: first });
    written.connection.prepare('INSERT INTO items (name) VALUES (?)').run('kept');
    written.close();
    const second = [...first, { version: 2, sql: 'CREATE TABLE queue (id INTEGER PRIMARY KEY) STRICT' }];
    expect(openWorkspaceDatabaseForReading({ path, migrations: second })).toBeUndefined();
    const reader = openWorkspaceDatabaseForReading({ path, migrations: second, readableFrom: 1 });
    expect(reader?.connection.prepare('SELECT name FROM items').pluck().all()).toEqual(['kept']);
    expect(reader?.connection.prepare('SELECT count(*) FROM schema_version').pluck().get()).toBe(1);
    reader?.close();
  });

  it('refuses a database written by a newer chargen, and a file that is not a database', async () => {
    const path = join(directory, 'state.sqlite');
    openWorkspaceDatabase({ path, now, migrations: [...schemaMigrations, { version: 99, sql: 'SELECT 1' }] }).close();
    expect(() => openWorkspaceDatabase({ path, now })).toThrow(/schema version 99, newer than this chargen knows/);
    expect(() => openWorkspaceDatabaseForReading({ path })).toThrow(WorkspaceFileError);
    const garbage = join(directory, 'garbage.sqlite');
    await writeFile(garbage, 'this is not a database, it is a text file of some length '.repeat(100));
    expect(() => openWorkspaceDatabase({ path: garbage, now })).toThrow(WorkspaceFileError);
  });

  it('commits a transaction whole or not at all', () => {
    const database = openWorkspaceDatabase({ path: join(directory, 'state.sqlite'), now });
    const insert = database.connection.prepare("INSERT INTO outcomes (stage, key, status, outcome) VALUES ('s', ?, 'succeeded', '{}')");
    expect(() =>
      database.transaction(() => {
        insert.run('a');
        insert.run('a');
      }),
    ).toThrow(/UNIQUE/);
    expect(database.connection.prepare('SELECT count(*) FROM outcomes').pluck().get()).toBe(0);
    database.close();
  });
});

describe('openWorkspaceDatabaseForReading', () => {
  it('finds nothing where no database is, and creates none', () => {
    expect(openWorkspaceDatabaseForReading({ path: join(directory, 'state.sqlite') })).toBeUndefined();
    expect(openWorkspaceDatabaseForReading({ path: join(directory, 'no-such-folder', 'state.sqlite') })).toBeUndefined();
    expect(openWorkspaceDatabaseForReading({ path: join(directory, 'state.sqlite') })).toBeUndefined();
  });

  it('reads the last commit while a writer holds a transaction open (WAL), and cannot write', () => {
    const path = join(directory, 'state.sqlite');
    const writer = openWorkspaceDatabase({ path, now });
    const insert = writer.connection.prepare("INSERT INTO outcomes (stage, key, status, outcome) VALUES ('s', ?, 'succeeded', '{}')");
    insert.run('committed');
    writer.connection.exec('BEGIN IMMEDIATE');
    insert.run('uncommitted');
    const reader = openWorkspaceDatabaseForReading({ path });
    expect(reader?.connection.prepare('SELECT key FROM outcomes').pluck().all()).toEqual(['committed']);
    expect(() => reader?.connection.prepare("DELETE FROM outcomes").run()).toThrow(/readonly/);
    writer.connection.exec('COMMIT');
    expect(reader?.connection.prepare('SELECT count(*) FROM outcomes').pluck().get()).toBe(2);
    reader?.close();
    writer.close();
  });
});

describe('a SIGKILL during writes', () => {
  it('loses no committed transaction and leaves no half of one', async () => {
    const path = join(directory, 'state.sqlite');
    const script = join(import.meta.dirname, '..', 'support', 'database-writer-process.ts');
    for (const killAfterPairs of [1, 37, 400]) {
      const before = openWorkspaceDatabase({ path, now });
      const pairsBefore = Number(before.connection.prepare('SELECT count(*) FROM outcomes').pluck().get()) / 2;
      before.close();
      const child = spawn(process.execPath, ['--import', 'tsx', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
      let reported = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        reported = Number(line);
        if (reported >= killAfterPairs) {
          child.kill('SIGKILL');
          break;
        }
      }
      const [, signal] = (await once(child, 'close')) as [number | null, string | null];
      expect(signal).toBe('SIGKILL');
      const after = openWorkspaceDatabase({ path, now });
      expect(after.connection.pragma('integrity_check', { simple: true })).toBe('ok');
      const keys = after.connection.prepare("SELECT key FROM outcomes WHERE stage = 'test'").pluck().all() as string[];
      // Every pair the child said was committed is there (from the ones left by earlier kills on), and every pair whole.
      expect(keys.length % 2).toBe(0);
      expect(keys.length / 2 - pairsBefore).toBeGreaterThanOrEqual(reported);
      after.close();
    }
  });
});

describe('the shipped migrations', () => {
  it('carry outcomes and uploads written under schema version 2 into version 3 unchanged', () => {
    const path = join(directory, 'state.sqlite');
    const upToTwo = schemaMigrations.filter((migration) => migration.version <= 2);
    const old = openWorkspaceDatabase({ path, now, migrations: upToTwo });
    old.connection.prepare("INSERT INTO outcomes (stage, key, status, outcome) VALUES ('analyze', 'k', 'succeeded', '{\"key\":\"k\"}')").run();
    old.connection
      .prepare("INSERT INTO uploads (sha256, name, uri, mime_type, size_bytes, expiration_time) VALUES (?, 'files/a', 'https://files/a', 'image/png', 12, '2026-12-03T00:00:00Z')")
      .run('a'.repeat(64));
    old.close();
    const current = openWorkspaceDatabase({ path, now });
    expect(current.connection.prepare('SELECT max(version) FROM schema_version').pluck().get()).toBe(schemaMigrations.at(-1)?.version);
    expect(current.connection.prepare('SELECT stage, key, status, outcome FROM outcomes').all()).toEqual([{ stage: 'analyze', key: 'k', status: 'succeeded', outcome: '{"key":"k"}' }]);
    expect(current.connection.prepare('SELECT name, size_bytes FROM uploads').all()).toEqual([{ name: 'files/a', size_bytes: 12 }]);
    expect(current.connection.prepare("SELECT sql FROM sqlite_master WHERE name = 'outcomes'").pluck().get()).not.toMatch(/WITHOUT ROWID/);
    current.close();
  });
});
