/**
 * The workspace database's schema, one step per version: a step is applied once, in a transaction with its row in
 * `schema_version`, and never edited after it ships (a new need is a new step).
 */
export interface SchemaMigration {
  version: number;
  sql: string;
}

export const schemaMigrations: readonly SchemaMigration[] = [
  {
    version: 1,
    sql: `
      -- Final outcomes by stage and request key (was results/<stage>.jsonl): whatever is here is never sent again.
      -- The outcome is kept whole as JSON (checked against lineOutcomeSchema when read back).
      CREATE TABLE outcomes (
        stage TEXT NOT NULL,
        key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
        outcome TEXT NOT NULL,
        PRIMARY KEY (stage, key)
      ) STRICT, WITHOUT ROWID;
      -- The JSON files imported into the database, so a file left behind by a crash after its import is not read again.
      CREATE TABLE imported_files (
        name TEXT PRIMARY KEY,
        records INTEGER NOT NULL,
        imported_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    sql: `
      -- Which bytes are on the Files API, by sha256 (was uploads.jsonl): the latest upload of each content.
      CREATE TABLE uploads (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        uri TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        expiration_time TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    sql: `
      -- Rowid tables: WITHOUT ROWID suits rows under about a twentieth of a page, and an outcome is a kilobyte or more
      -- (the database of 3,000 images took 15.9 MB as WITHOUT ROWID, 8.3 MB as rowid tables).
      CREATE TABLE outcomes_rowid (
        stage TEXT NOT NULL,
        key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
        outcome TEXT NOT NULL,
        PRIMARY KEY (stage, key)
      ) STRICT;
      INSERT INTO outcomes_rowid (stage, key, status, outcome) SELECT stage, key, status, outcome FROM outcomes;
      DROP TABLE outcomes;
      ALTER TABLE outcomes_rowid RENAME TO outcomes;
      CREATE TABLE uploads_rowid (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        uri TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        expiration_time TEXT NOT NULL
      ) STRICT;
      INSERT INTO uploads_rowid (sha256, name, uri, mime_type, size_bytes, expiration_time)
        SELECT sha256, name, uri, mime_type, size_bytes, expiration_time FROM uploads;
      DROP TABLE uploads;
      ALTER TABLE uploads_rowid RENAME TO uploads;
    `,
  },
  {
    version: 4,
    sql: `
      -- When an upload was deleted from the Files API (or found gone): the storage budget counts only what is held.
      ALTER TABLE uploads ADD COLUMN deleted_at TEXT;
    `,
  },
];
