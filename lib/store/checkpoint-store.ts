import type { z } from 'zod';
import { formatZodIssues } from '../../schemas/format-zod-issues.ts';
import { WorkspaceFileError } from '../errors.ts';
import { openWorkspaceDatabase, openWorkspaceDatabaseForReading, type WorkspaceDatabase } from './workspace-database.ts';
import { checkpointSchemaMigrations } from './checkpoint-migrations.ts';
import { checkpointDatabasePath } from './workspace-layout.ts';

export type CheckpointStage = 'analyze' | 'compile' | 'synthesize';
/** analyze: records and failures; compile: prompts; synthesize: outputs and failures. */
export type CheckpointItemKind = 'record' | 'failure' | 'prompt' | 'output';

/** One item of a stage's checkpoint, placed by its source and variant (0 for analysis), kept whole as JSON. */
export interface CheckpointItem {
  kind: CheckpointItemKind;
  sourcePath: string;
  variant: number;
  /** For failures: whether trying again can mend it (counted without reading the items). */
  retryable?: boolean;
  value: unknown;
}

export interface StoredCheckpointItem {
  sourcePath: string;
  variant: number;
  /** The item's JSON, for the stage to check against its schema. */
  text: string;
}

/** A stage's checkpoint: `fingerprint` undefined while a run is writing it (its items are those written so far). */
export interface CheckpointState {
  fingerprint: string | undefined;
}

/**
 * The stages' checkpoints (analysis records and failures, prompts, synthesis outputs and failures, each with its
 * fingerprint and warnings) and the output names, in the workspace's `checkpoints.sqlite`, written a chunk at a time
 * in transactions and read back a page at a time, so neither a run nor a reader holds a whole stage in memory.
 */
export interface CheckpointStore {
  readonly path: string;
  readState(stage: CheckpointStage): CheckpointState | undefined;
  /** Forgets the stages' items and warnings and marks them as being written (one transaction). */
  begin(stages: readonly CheckpointStage[]): void;
  /** Adds (or replaces) items and warnings of a stage being written, in one transaction. */
  putItems(stage: CheckpointStage, items: readonly CheckpointItem[], warnings?: readonly string[]): void;
  /** The stage's items are all in: its fingerprint says what they were made from. */
  finish(stage: CheckpointStage, fingerprint: string | undefined): void;
  /** begin, putItems and finish in one transaction. */
  replace(stage: CheckpointStage, checkpoint: { fingerprint: string | undefined; items: readonly CheckpointItem[]; warnings: readonly string[] }): void;
  /** A stage's items of one kind, ordered by source path then variant, a page at a time (no cursor is held open between pages, so the caller may write in between). */
  readPages(stage: CheckpointStage, kind: CheckpointItemKind, pageSize?: number): Generator<StoredCheckpointItem[]>;
  count(stage: CheckpointStage, kind: CheckpointItemKind, options?: { retryableOnly?: boolean }): number;
  readWarnings(stage: CheckpointStage): string[];
  /** Entry id (`<source path>#<variant>`) → base name in one output folder. */
  readNames(outputDirectory: string): Map<string, string>;
  replaceNames(outputDirectory: string, names: ReadonlyMap<string, string>): void;
  close(): void;
}

export const checkpointDatabaseFix = 'Delete it and run `chargen run` again: the stages are made again from the answers already paid for (kept per backend), and images already made are kept.';

const defaultPageSize = 500;

function createStore(database: WorkspaceDatabase): CheckpointStore {
  const { connection } = database;
  const statements = {
    state: connection.prepare('SELECT fingerprint FROM stage_checkpoints WHERE stage = ?'),
    upsertState: connection.prepare('INSERT INTO stage_checkpoints (stage, fingerprint) VALUES (?, ?) ON CONFLICT (stage) DO UPDATE SET fingerprint = excluded.fingerprint'),
    clearItems: connection.prepare('DELETE FROM stage_items WHERE stage = ?'),
    clearWarnings: connection.prepare('DELETE FROM stage_warnings WHERE stage = ?'),
    // One place per source and variant: an analysis record replaces the failure of the same image, and so on.
    insertItem: connection.prepare('INSERT OR REPLACE INTO stage_items (stage, kind, source_path, variant, retryable, value) VALUES (?, ?, ?, ?, ?, ?)'),
    insertWarning: connection.prepare('INSERT INTO stage_warnings (stage, warning) VALUES (?, ?)'),
    firstPage: connection.prepare('SELECT source_path AS sourcePath, variant, value AS text FROM stage_items WHERE stage = ? AND kind = ? ORDER BY source_path, variant LIMIT ?'),
    nextPage: connection.prepare(
      'SELECT source_path AS sourcePath, variant, value AS text FROM stage_items WHERE stage = ? AND kind = ? AND (source_path, variant) > (?, ?) ORDER BY source_path, variant LIMIT ?',
    ),
    count: connection.prepare('SELECT count(*) FROM stage_items WHERE stage = ? AND kind = ?').pluck(),
    countRetryable: connection.prepare('SELECT count(*) FROM stage_items WHERE stage = ? AND kind = ? AND retryable = 1').pluck(),
    warnings: connection.prepare('SELECT warning FROM stage_warnings WHERE stage = ? ORDER BY rowid').pluck(),
    names: connection.prepare('SELECT entry, base_name AS baseName FROM output_names WHERE output_directory = ?'),
    clearNames: connection.prepare('DELETE FROM output_names WHERE output_directory = ?'),
    insertName: connection.prepare('INSERT INTO output_names (output_directory, entry, base_name) VALUES (?, ?, ?)'),
  };
  const begin = (stages: readonly CheckpointStage[]) => {
    for (const stage of stages) {
      statements.clearItems.run(stage);
      statements.clearWarnings.run(stage);
      statements.upsertState.run(stage, null);
    }
  };
  const put = (stage: CheckpointStage, items: readonly CheckpointItem[], warnings: readonly string[]) => {
    for (const item of items) {
      statements.insertItem.run(stage, item.kind, item.sourcePath, item.variant, item.retryable === undefined ? null : item.retryable ? 1 : 0, JSON.stringify(item.value));
    }
    for (const warning of warnings) statements.insertWarning.run(stage, warning);
  };
  return {
    path: database.path,
    readState(stage) {
      const row = statements.state.get(stage) as { fingerprint: string | null } | undefined;
      return row ? { fingerprint: row.fingerprint ?? undefined } : undefined;
    },
    begin: (stages) => database.transaction(() => begin(stages)),
    putItems: (stage, items, warnings = []) => database.transaction(() => put(stage, items, warnings)),
    finish: (stage, fingerprint) => void statements.upsertState.run(stage, fingerprint ?? null),
    replace: (stage, checkpoint) =>
      database.transaction(() => {
        begin([stage]);
        put(stage, checkpoint.items, checkpoint.warnings);
        statements.upsertState.run(stage, checkpoint.fingerprint ?? null);
      }),
    *readPages(stage, kind, pageSize = defaultPageSize) {
      let page = statements.firstPage.all(stage, kind, pageSize) as StoredCheckpointItem[];
      while (page.length > 0) {
        yield page;
        const last = page.at(-1) as StoredCheckpointItem;
        page = page.length < pageSize ? [] : (statements.nextPage.all(stage, kind, last.sourcePath, last.variant, pageSize) as StoredCheckpointItem[]);
      }
    },
    count: (stage, kind, options) => (options?.retryableOnly ? statements.countRetryable : statements.count).get(stage, kind) as number,
    readWarnings: (stage) => statements.warnings.all(stage) as string[],
    readNames: (outputDirectory) => new Map((statements.names.all(outputDirectory) as { entry: string; baseName: string }[]).map((row) => [row.entry, row.baseName])),
    replaceNames: (outputDirectory, names) =>
      database.transaction(() => {
        statements.clearNames.run(outputDirectory);
        for (const [entry, baseName] of names) statements.insertName.run(outputDirectory, entry, baseName);
      }),
    close: () => database.close(),
  };
}

/**
 * Opens the workspace's checkpoint database for writing, creating it on first use.
 *
 * Why one database for the workspace (not one per backend, as `backends/<id>/state.sqlite` holds answers and
 * uploads): the checkpoints describe the input folder and the output folders, whichever backend answered; `status`
 * and the UI read them without choosing a backend; and every stage's fingerprint includes the backend's identity, so
 * a run on another backend still finds them out of date, as it did the JSON files they replace.
 */
export function openCheckpointStore(options: { workspaceDirectory: string; now: () => number }): CheckpointStore {
  return createStore(openWorkspaceDatabase({ path: checkpointDatabasePath(options.workspaceDirectory), now: options.now, migrations: checkpointSchemaMigrations, fix: checkpointDatabaseFix }));
}

/** For readers (`status`, the UI, a dry run): undefined when there is no checkpoint database (yet, or of this schema). */
export function openCheckpointStoreForReading(options: { workspaceDirectory: string }): CheckpointStore | undefined {
  // The checkpoints' tables are those of schema 1 (2 added the regenerate queue and image versions): a workspace a
  // run has not migrated yet is read as it is, so `status`, a dry run and the UI see its checkpoints after an upgrade.
  const database = openWorkspaceDatabaseForReading({ path: checkpointDatabasePath(options.workspaceDirectory), migrations: checkpointSchemaMigrations, fix: checkpointDatabaseFix, readableFrom: 1 });
  return database ? createStore(database) : undefined;
}

/**
 * The checkpoint database (and the stores kept in it: checkpoints, the regenerate queue, image versions) opened for
 * `work` and closed after: for writing (migrated, under the caller's lock), or for reading (no write lock taken, so a
 * run writing never waits; undefined when there is no database of this schema yet).
 */
export function withCheckpointDatabase<T>(options: { workspaceDirectory: string; now: () => number }, work: (database: WorkspaceDatabase) => T): T {
  const database = openWorkspaceDatabase({ path: checkpointDatabasePath(options.workspaceDirectory), now: options.now, migrations: checkpointSchemaMigrations, fix: checkpointDatabaseFix });
  try {
    return work(database);
  } finally {
    database.close();
  }
}

export function readCheckpointDatabase<T>(workspaceDirectory: string, read: (database: WorkspaceDatabase) => T): T | undefined {
  const database = openWorkspaceDatabaseForReading({ path: checkpointDatabasePath(workspaceDirectory), migrations: checkpointSchemaMigrations, fix: checkpointDatabaseFix });
  if (!database) return undefined;
  try {
    return read(database);
  } finally {
    database.close();
  }
}

/** Opens the store for reading, runs `read` (undefined without a store) and closes it. */
export function readCheckpointStore<T>(workspaceDirectory: string, read: (store: CheckpointStore) => T): T | undefined {
  const store = openCheckpointStoreForReading({ workspaceDirectory });
  if (!store) return undefined;
  try {
    return read(store);
  } finally {
    store.close();
  }
}

/** readCheckpointStore for a reader that awaits (the store is closed once it is done). */
export async function readCheckpointStoreAsync<T>(workspaceDirectory: string, read: (store: CheckpointStore) => Promise<T>): Promise<T | undefined> {
  const store = openCheckpointStoreForReading({ workspaceDirectory });
  if (!store) return undefined;
  try {
    return await read(store);
  } finally {
    store.close();
  }
}

/** Opens the store for writing, runs `write` and closes it. */
export function writeCheckpointStore<T>(workspaceDirectory: string, write: (store: CheckpointStore) => T): T {
  const store = openCheckpointStore({ workspaceDirectory, now: Date.now });
  try {
    return write(store);
  } finally {
    store.close();
  }
}

/** An item as stored, checked against the stage's schema: the database is the user's, and may have been edited. */
export function parseCheckpointItem<T>(options: { path: string; stage: CheckpointStage; item: StoredCheckpointItem; schema: z.ZodType<T>; fix: string }): T {
  let value: unknown;
  try {
    value = JSON.parse(options.item.text) as unknown;
  } catch {
    value = undefined;
  }
  const parsed = options.schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const place = `${options.item.sourcePath}${options.item.variant > 1 ? ` (variant ${options.item.variant})` : ''}`;
  const issues = parsed.error ? ` (${formatZodIssues(parsed.error.issues)})` : '';
  throw new WorkspaceFileError({ path: options.path, problem: `holds an item of the ${options.stage} checkpoint for ${place} that does not match its schema${issues}`, fix: options.fix });
}
