import { z } from 'zod';
import { generationPromptSchema, type GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { WorkspaceFileError } from '../errors.ts';
import { checkpointDatabaseFix, readCheckpointDatabase, withCheckpointDatabase } from './checkpoint-store.ts';
import { checkpointSchemaMigrations } from './checkpoint-migrations.ts';
import { openWorkspaceDatabase, type WorkspaceDatabase } from './workspace-database.ts';
import { checkpointDatabasePath } from './workspace-layout.ts';

export type RegenerateItemStatus = 'queued' | 'sent' | 'done' | 'failed';

/** One image asked again from the page: its prompt as edited, and what became of it. */
export interface RegenerateItem {
  id: number;
  /** The output entry it is a version of (`<source>#<variant>` or `<source>#shot:<name>`). */
  entry: string;
  prompt: GenerationPrompt;
  requestKey: string;
  /** What the artist changed, for people: `prompt`, `seed 42`, `aspect ratio 1:1`. */
  changes: string[];
  addedAt: string;
  status: RegenerateItemStatus;
  batch?: number;
  /** The version it made (image_versions.id). */
  version?: number;
  reason?: string;
}

export interface RegenerateBatch {
  id: number;
  /** `batch`: one Batch API job at half price; `sync`: generateContent at full price ("Run now"). */
  mode: 'batch' | 'sync';
  /** `sending` until its answers are in: a batch left `sending` by a crash is resumed (its job adopted). */
  status: 'sending' | 'done';
  createdAt: string;
  finishedAt?: string;
  message?: string;
}

export type ItemResult = { status: 'done'; version: number } | { status: 'failed'; reason: string };

interface ItemRow { id: number; entry: string; prompt: string; request_key: string; changes: string; added_at: string; status: RegenerateItemStatus; batch: number | null; version: number | null; reason: string | null }
interface BatchRow { id: number; mode: 'batch' | 'sync'; status: 'sending' | 'done'; created_at: string; finished_at: string | null; message: string | null }

const changesSchema = z.array(z.string());

function toBatch(row: BatchRow): RegenerateBatch {
  return { id: row.id, mode: row.mode, status: row.status, createdAt: row.created_at, ...(row.finished_at ? { finishedAt: row.finished_at } : {}), ...(row.message ? { message: row.message } : {}) };
}

/**
 * The artist's queue of images to ask again, its batches and the page's settings, in the workspace's
 * checkpoints.sqlite: each change is one transaction, so the queue survives a restart of `chargen ui` (or a crash)
 * as it was last committed.
 */
export interface RegenerateQueueStore {
  add(item: { entry: string; prompt: GenerationPrompt; requestKey: string; changes: readonly string[] }): RegenerateItem;
  /** Removes a queued item; false when there is none (or it was sent already). */
  remove(id: number): boolean;
  get(id: number): RegenerateItem | undefined;
  /** Queued and sent items, then the last `finished` done or failed ones, oldest first. */
  list(options?: { finished?: number }): RegenerateItem[];
  countQueued(): number;
  /** Moves the queued items (or only `ids`) into a new batch, `sending`, in one transaction; undefined when none are queued. */
  startBatch(options: { mode: RegenerateBatch['mode']; ids?: readonly number[] }): { batch: RegenerateBatch; items: RegenerateItem[] } | undefined;
  /** Batches a crash (or a stop) left `sending`, with their items: they are sent again, and their jobs adopted. */
  listSending(): { batch: RegenerateBatch; items: RegenerateItem[] }[];
  finishBatch(options: { batch: number; results: ReadonlyMap<number, ItemResult>; message: string }): void;
  listBatches(limit: number): RegenerateBatch[];
  readSetting(name: string): string | undefined;
  writeSetting(name: string, value: string | undefined): void;
  close(): void;
}

function createStore(database: WorkspaceDatabase, now: () => number): RegenerateQueueStore {
  const { connection } = database;
  const timestamp = () => new Date(now()).toISOString();
  const parseItem = (row: ItemRow): RegenerateItem => {
    const prompt = generationPromptSchema.safeParse(JSON.parse(row.prompt));
    const changes = changesSchema.safeParse(JSON.parse(row.changes));
    if (!prompt.success || !changes.success) {
      throw new WorkspaceFileError({ path: database.path, problem: `holds a queued image (${row.id}) that does not match its schema`, fix: 'Remove it from the queue on the page, or delete the row from regenerate_items.' });
    }
    return {
      id: row.id,
      entry: row.entry,
      prompt: prompt.data,
      requestKey: row.request_key,
      changes: changes.data,
      addedAt: row.added_at,
      status: row.status,
      ...(row.batch !== null ? { batch: row.batch } : {}),
      ...(row.version !== null ? { version: row.version } : {}),
      ...(row.reason !== null ? { reason: row.reason } : {}),
    };
  };
  const statements = {
    insert: connection.prepare("INSERT INTO regenerate_items (entry, prompt, request_key, changes, added_at, status) VALUES (?, ?, ?, ?, ?, 'queued')"),
    remove: connection.prepare("DELETE FROM regenerate_items WHERE id = ? AND status = 'queued'"),
    get: connection.prepare('SELECT * FROM regenerate_items WHERE id = ?'),
    open: connection.prepare("SELECT * FROM regenerate_items WHERE status IN ('queued', 'sent') ORDER BY id"),
    finished: connection.prepare("SELECT * FROM (SELECT * FROM regenerate_items WHERE status IN ('done', 'failed') ORDER BY id DESC LIMIT ?) ORDER BY id"),
    countQueued: connection.prepare("SELECT count(*) FROM regenerate_items WHERE status = 'queued'").pluck(),
    queued: connection.prepare("SELECT * FROM regenerate_items WHERE status = 'queued' ORDER BY id"),
    insertBatch: connection.prepare("INSERT INTO regenerate_batches (mode, status, created_at) VALUES (?, 'sending', ?)"),
    send: connection.prepare("UPDATE regenerate_items SET status = 'sent', batch = ? WHERE id = ? AND status = 'queued'"),
    sending: connection.prepare("SELECT * FROM regenerate_batches WHERE status = 'sending' ORDER BY id"),
    getBatch: connection.prepare('SELECT * FROM regenerate_batches WHERE id = ?'),
    batchItems: connection.prepare('SELECT * FROM regenerate_items WHERE batch = ? ORDER BY id'),
    finishItem: connection.prepare('UPDATE regenerate_items SET status = ?, version = ?, reason = ? WHERE id = ? AND batch = ?'),
    finishBatch: connection.prepare("UPDATE regenerate_batches SET status = 'done', finished_at = ?, message = ? WHERE id = ?"),
    batches: connection.prepare('SELECT * FROM (SELECT * FROM regenerate_batches ORDER BY id DESC LIMIT ?) ORDER BY id'),
    readSetting: connection.prepare('SELECT value FROM ui_settings WHERE name = ?').pluck(),
    writeSetting: connection.prepare('INSERT INTO ui_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    deleteSetting: connection.prepare('DELETE FROM ui_settings WHERE name = ?'),
  };
  const itemsOf = (batch: number) => (statements.batchItems.all(batch) as ItemRow[]).map(parseItem);
  return {
    add(item) {
      const id = database.transaction(() => Number(statements.insert.run(item.entry, JSON.stringify(item.prompt), item.requestKey, JSON.stringify(item.changes), timestamp()).lastInsertRowid));
      return parseItem(statements.get.get(id) as ItemRow);
    },
    remove: (id) => database.transaction(() => statements.remove.run(id).changes > 0),
    get(id) {
      const row = statements.get.get(id) as ItemRow | undefined;
      return row ? parseItem(row) : undefined;
    },
    list: (options) => [...(statements.open.all() as ItemRow[]), ...(statements.finished.all(options?.finished ?? 50) as ItemRow[])].map(parseItem).sort((left, right) => left.id - right.id),
    countQueued: () => statements.countQueued.get() as number,
    startBatch: ({ mode, ids }) =>
      database.transaction(() => {
        const wanted = ids ? new Set(ids) : undefined;
        const queued = (statements.queued.all() as ItemRow[]).filter((row) => !wanted || wanted.has(row.id));
        if (queued.length === 0) return undefined;
        const id = Number(statements.insertBatch.run(mode, timestamp()).lastInsertRowid);
        for (const row of queued) statements.send.run(id, row.id);
        return { batch: toBatch(statements.getBatch.get(id) as BatchRow), items: itemsOf(id) };
      }),
    listSending: () => (statements.sending.all() as BatchRow[]).map((row) => ({ batch: toBatch(row), items: itemsOf(row.id) })),
    finishBatch: ({ batch, results, message }) =>
      database.transaction(() => {
        for (const [id, result] of results) statements.finishItem.run(result.status, result.status === 'done' ? result.version : null, result.status === 'failed' ? result.reason : null, id, batch);
        statements.finishBatch.run(timestamp(), message, batch);
      }),
    listBatches: (limit) => (statements.batches.all(limit) as BatchRow[]).map(toBatch),
    readSetting: (name) => statements.readSetting.get(name) as string | undefined,
    writeSetting: (name, value) => void database.transaction(() => (value === undefined ? statements.deleteSetting.run(name) : statements.writeSetting.run(name, value))),
    close: () => database.close(),
  };
}

export function openRegenerateQueueStore(options: { workspaceDirectory: string; now: () => number }): RegenerateQueueStore {
  const database = openWorkspaceDatabase({ path: checkpointDatabasePath(options.workspaceDirectory), now: options.now, migrations: checkpointSchemaMigrations, fix: checkpointDatabaseFix });
  return createStore(database, options.now);
}

/** Opens the queue store, runs `work` and closes it. */
export function withRegenerateQueueStore<T>(options: { workspaceDirectory: string; now: () => number }, work: (store: RegenerateQueueStore) => T): T {
  return withCheckpointDatabase(options, (database) => work(createStore(database, options.now)));
}

/**
 * For readers (the page, once a second): the queue read without taking a write lock, so a run writing its checkpoints
 * never waits on it; undefined when the database is not there yet or not of this schema (nothing queued then).
 */
export function readRegenerateQueueStore<T>(options: { workspaceDirectory: string }, read: (store: RegenerateQueueStore) => T): T | undefined {
  return readCheckpointDatabase(options.workspaceDirectory, (database) => read(createStore(database, Date.now)));
}
