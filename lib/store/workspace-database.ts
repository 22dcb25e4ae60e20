import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { WorkspaceFileError } from '../errors.ts';
import { schemaMigrations, type SchemaMigration } from './schema-migrations.ts';

/**
 * The workspace's SQLite database: state that grows with the number of items (outcomes today), written one
 * transaction at a time and read by key, so a run's memory does not grow with its input.
 *
 * WAL: readers (`chargen status`, the UI) see the last committed state while a run writes, and a SIGKILL loses
 * nothing committed. synchronous=FULL: a commit is on disk before the call returns, as the append logs' datasync
 * was (a power cut must not lose an answer that was paid for). busy_timeout: two processes on one workspace (a run
 * and `status`) wait for each other's write instead of failing at once.
 */
export interface WorkspaceDatabase {
  readonly path: string;
  /** better-sqlite3's handle: statements are prepared once by the stores built on it. */
  readonly connection: Database.Database;
  /** Runs `work` in one IMMEDIATE transaction: all of it is committed, or none of it. */
  transaction<T>(work: () => T): T;
  close(): void;
}

const busyTimeoutMilliseconds = 5_000;
const deleteFix = 'Use the chargen version that wrote it, or delete the workspace folder to start afresh (this forgets which answers were paid for).';

function readSchemaVersion(connection: Database.Database): number {
  const table = connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!table) return 0;
  const row = connection.prepare('SELECT max(version) AS version FROM schema_version').get() as { version: number | null };
  return row.version ?? 0;
}

/** Brings the schema up to the last migration, each step in its own transaction with its version row. */
function migrate(connection: Database.Database, options: { path: string; migrations: readonly SchemaMigration[]; now: () => number; fix: string }): void {
  connection.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT');
  const current = readSchemaVersion(connection);
  const latest = options.migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new WorkspaceFileError({ path: options.path, problem: `has schema version ${current}, newer than this chargen knows (${latest})`, fix: options.fix });
  }
  for (const migration of options.migrations) {
    if (migration.version <= current) continue;
    connection.transaction(() => {
      connection.exec(migration.sql);
      connection.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(migration.version, new Date(options.now()).toISOString());
    }).immediate();
  }
}

function wrap(path: string, connection: Database.Database): WorkspaceDatabase {
  return {
    path,
    connection,
    transaction: (work) => connection.transaction(work).immediate(),
    close: () => connection.close(),
  };
}

function openConnection(path: string, fix: string): Database.Database {
  try {
    return new Database(path, { timeout: busyTimeoutMilliseconds });
  } catch (error) {
    throw new WorkspaceFileError({ path, problem: `cannot be opened as a database (${(error as Error).message})`, fix, cause: error });
  }
}

/**
 * Opens (creating it on first use) the database and migrates its schema; the caller closes it. `fix` is what a
 * damaged or newer file's message advises (by default: delete the workspace).
 */
export function openWorkspaceDatabase(options: { path: string; now: () => number; migrations?: readonly SchemaMigration[]; fix?: string }): WorkspaceDatabase {
  const fix = options.fix ?? deleteFix;
  mkdirSync(dirname(options.path), { recursive: true });
  const connection = openConnection(options.path, fix);
  try {
    connection.pragma('journal_mode = WAL');
    connection.pragma('synchronous = FULL');
    connection.pragma('foreign_keys = ON');
    migrate(connection, { path: options.path, migrations: options.migrations ?? schemaMigrations, now: options.now, fix });
  } catch (error) {
    connection.close();
    if (error instanceof WorkspaceFileError) throw error;
    throw new WorkspaceFileError({ path: options.path, problem: `is not a chargen database (${(error as Error).message})`, fix, cause: error });
  }
  return wrap(options.path, connection);
}

/**
 * Opens an existing database for reading only (a dry run, `status`, the UI while a run writes): undefined when
 * there is none yet, and an error when its schema is not the one this chargen reads.
 */
export function openWorkspaceDatabaseForReading(options: {
  path: string;
  migrations?: readonly SchemaMigration[];
  fix?: string;
  /** The oldest schema version the caller's tables are the same in (later migrations only added tables): it reads that too. */
  readableFrom?: number;
}): WorkspaceDatabase | undefined {
  const fix = options.fix ?? deleteFix;
  // No database yet (nor, maybe, its folder): nothing to read, and nothing is created.
  if (!existsSync(options.path)) return undefined;
  let connection: Database.Database;
  try {
    connection = new Database(options.path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMilliseconds });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') return undefined;
    throw new WorkspaceFileError({ path: options.path, problem: `cannot be opened as a database (${(error as Error).message})`, fix, cause: error });
  }
  const latest = (options.migrations ?? schemaMigrations).at(-1)?.version ?? 0;
  let version: number;
  try {
    version = readSchemaVersion(connection);
  } catch (error) {
    connection.close();
    throw new WorkspaceFileError({ path: options.path, problem: `is not a chargen database (${(error as Error).message})`, fix, cause: error });
  }
  if (version !== latest && !(version < latest && version >= (options.readableFrom ?? latest))) {
    connection.close();
    // Older: the next run migrates it; until then a reader sees nothing in it rather than guessing its tables.
    if (version < latest) return undefined;
    throw new WorkspaceFileError({ path: options.path, problem: `has schema version ${version}, newer than this chargen knows (${latest})`, fix });
  }
  return wrap(options.path, connection);
}
