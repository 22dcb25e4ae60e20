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
];
