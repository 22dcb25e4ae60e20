import type { SchemaMigration } from './schema-migrations.ts';

/**
 * The schema of the workspace's checkpoint database (`checkpoints.sqlite`, lib/store/checkpoint-store.ts), one step
 * per version, as schema-migrations.ts is for the backends' databases: a step is never edited after it ships.
 */
export const checkpointSchemaMigrations: readonly SchemaMigration[] = [
  {
    version: 1,
    sql: `
      -- One row per stage whose checkpoint exists; fingerprint NULL while a run is writing its items.
      CREATE TABLE stage_checkpoints (
        stage TEXT PRIMARY KEY CHECK (stage IN ('analyze', 'compile', 'synthesize')),
        fingerprint TEXT
      ) STRICT;
      -- A stage's items (was analyze/analysis.json, compile/prompts.json, synthesize/outputs.json), one per source and
      -- variant (0 for analysis), each kept whole as JSON and checked against the stage's schema when read back.
      CREATE TABLE stage_items (
        stage TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('record', 'failure', 'prompt', 'output')),
        source_path TEXT NOT NULL,
        variant INTEGER NOT NULL,
        retryable INTEGER,
        value TEXT NOT NULL,
        PRIMARY KEY (stage, source_path, variant)
      ) STRICT;
      CREATE INDEX stage_items_by_kind ON stage_items (stage, kind, source_path, variant);
      CREATE TABLE stage_warnings (
        stage TEXT NOT NULL,
        warning TEXT NOT NULL
      ) STRICT;
      -- The names given to outputs in each output folder (was synthesize/names/<folder hash>.json).
      CREATE TABLE output_names (
        output_directory TEXT NOT NULL,
        entry TEXT NOT NULL,
        base_name TEXT NOT NULL,
        PRIMARY KEY (output_directory, entry)
      ) STRICT;
    `,
  },
  {
    version: 2,
    sql: `
      -- The artist's loop (chargen ui): images asked again from the page. A queued request keeps its whole prompt (as
      -- edited) and its request key; a batch groups the requests sent together ('sending' until its answers are in,
      -- so a crash mid-submit is resumed and its job adopted, never made twice).
      CREATE TABLE regenerate_batches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mode TEXT NOT NULL CHECK (mode IN ('batch', 'sync')),
        status TEXT NOT NULL CHECK (status IN ('sending', 'done')),
        created_at TEXT NOT NULL,
        finished_at TEXT,
        message TEXT
      ) STRICT;
      CREATE TABLE regenerate_items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        entry TEXT NOT NULL,
        prompt TEXT NOT NULL,
        request_key TEXT NOT NULL,
        changes TEXT NOT NULL,
        added_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'done', 'failed')),
        batch INTEGER REFERENCES regenerate_batches (id),
        version INTEGER,
        reason TEXT
      ) STRICT;
      CREATE INDEX regenerate_items_by_status ON regenerate_items (status, id);
      -- Every image of an output entry kept in the workspace's versions folder, with its sidecar beside it.
      CREATE TABLE image_versions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        entry TEXT NOT NULL,
        source_path TEXT NOT NULL,
        variant INTEGER NOT NULL,
        request_key TEXT NOT NULL,
        image TEXT NOT NULL,
        sidecar TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (entry, request_key)
      ) STRICT;
      -- The version the artist chose for an entry: what the output folder holds, and what a run keeps.
      CREATE TABLE chosen_versions (
        entry TEXT PRIMARY KEY,
        version INTEGER NOT NULL REFERENCES image_versions (id),
        request_key TEXT NOT NULL,
        chosen_at TEXT NOT NULL
      ) STRICT;
      -- Settings the page keeps (the queue's size that sends it by itself).
      CREATE TABLE ui_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
];
