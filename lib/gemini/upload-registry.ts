import { access, rm } from 'node:fs/promises';
import { z } from 'zod';
import { readAppendLog } from '../store/append-log.ts';
import { openWorkspaceDatabase, openWorkspaceDatabaseForReading, type WorkspaceDatabase } from '../store/workspace-database.ts';
import { stateDatabasePath, uploadRegistryPath } from '../store/workspace-layout.ts';
import { WorkspaceFileError } from '../errors.ts';

export const uploadRecordSchema = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** A Files API file (`files/<id>`) or, on the Vertex AI backend, a Cloud Storage object (`gs://<bucket>/<name>`, its uri too). */
    name: z.string().regex(/^(files\/|gs:\/\/)./, 'a Files API name (files/…) or a Cloud Storage URI (gs://…)'),
    uri: z.string().min(1),
    mimeType: z.string().min(1),
    sizeBytes: z.number().int().nonnegative(),
    expirationTime: z.iso.datetime({ offset: true }),
    /** When the file was deleted (or found gone): it is held no more and never reused. */
    deletedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type UploadRecord = z.infer<typeof uploadRecordSchema>;

/**
 * The `expirationTime` recorded for a Cloud Storage object: objects do not expire on their own (a bucket's lifecycle
 * rule may delete them, which a job then reports as a missing file and the next run uploads again), so the record
 * lives until it is deleted, and `findUsable` and `listHeld` treat it as any file far from expiry.
 */
export const neverExpires = '9999-12-31T23:59:59Z';

/** The append log's header: what the registry was before the database. */
const kind = 'chargen-upload-registry';
const version = 1;
const logName = 'uploads.jsonl';

/**
 * Which bytes are already on the Files API, by sha256, in the backend's database (table `uploads`): a file is reused
 * only while it will outlive the work that will reference it (a batch job may run 24 h and more; files expire 48 h
 * after upload), so a request never points at a file that dies before its job reads it. Read by key, never loaded.
 */
export interface UploadRegistry {
  findUsable(options: { sha256: string; now: number }): UploadRecord | undefined;
  record(upload: UploadRecord): Promise<void>;
  /** Says the file of these bytes was deleted (or is gone): its row keeps the upload and when it was deleted. */
  recordDeletion(options: { sha256: string; now: number }): Promise<void>;
  /** The files held now: uploaded, not deleted, not expired. */
  listHeld(now: number): UploadRecord[];
  /** Every file uploaded and not deleted, expired or not (a delete of an expired one costs a 404 at most). */
  listUndeleted(): UploadRecord[];
  close(): Promise<void>;
}

const columns = 'sha256, name, uri, mime_type AS mimeType, size_bytes AS sizeBytes, expiration_time AS expirationTime, deleted_at AS deletedAt';

function parseRow(database: WorkspaceDatabase, row: unknown): UploadRecord {
  // A column without a value reads as null; the record leaves the field out.
  const { deletedAt, ...rest } = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
  const parsed = uploadRecordSchema.safeParse(deletedAt === null || deletedAt === undefined ? rest : { ...rest, deletedAt });
  if (parsed.success) return parsed.data;
  throw new WorkspaceFileError({ path: database.path, problem: 'holds an upload record that does not match its schema', fix: 'Delete the file to start afresh; chargen never writes such a row itself.' });
}

/** uploads.jsonl of an older chargen moved in once (one transaction, recorded in imported_files), then removed. */
async function importUploadLog(options: { database: WorkspaceDatabase; stateDirectory: string; now: () => number; onSkippedLine?: (lineNumber: number, reason: string) => void }): Promise<void> {
  const { database } = options;
  const path = uploadRegistryPath(options.stateDirectory);
  if (!(await access(path).then(() => true, () => false))) return;
  if (database.connection.prepare('SELECT 1 FROM imported_files WHERE name = ?').get(logName) === undefined) {
    const records = await readAppendLog({ path, kind, version, schema: uploadRecordSchema, ...(options.onSkippedLine ? { onSkippedLine: options.onSkippedLine } : {}) });
    const insert = prepareInsert(database);
    database.transaction(() => {
      for (const record of records) insert(record);
      database.connection.prepare('INSERT INTO imported_files (name, records, imported_at) VALUES (?, ?, ?)').run(logName, records.length, new Date(options.now()).toISOString());
    });
  }
  await rm(path, { force: true });
}

function prepareInsert(database: WorkspaceDatabase): (record: UploadRecord) => void {
  const statement = database.connection.prepare(
    'INSERT OR REPLACE INTO uploads (sha256, name, uri, mime_type, size_bytes, expiration_time) VALUES (@sha256, @name, @uri, @mimeType, @sizeBytes, @expirationTime)',
  );
  return (record) => void statement.run(record);
}

export async function openUploadRegistry(options: {
  stateDirectory: string;
  /** How long a reused file must still live: the job deadline plus a margin in batch mode (see uploadLifetimeFor). */
  requiredLifetimeMilliseconds: number;
  now?: () => number;
  onSkippedLine?: (lineNumber: number, reason: string) => void;
}): Promise<UploadRegistry> {
  const database = openWorkspaceDatabase({ path: stateDatabasePath(options.stateDirectory), now: options.now ?? Date.now });
  try {
    await importUploadLog({ database, stateDirectory: options.stateDirectory, now: options.now ?? Date.now, ...(options.onSkippedLine ? { onSkippedLine: options.onSkippedLine } : {}) });
  } catch (error) {
    database.close();
    throw error;
  }
  const select = database.connection.prepare(`SELECT ${columns} FROM uploads WHERE sha256 = ?`);
  const selectUndeleted = database.connection.prepare(`SELECT ${columns} FROM uploads WHERE deleted_at IS NULL`);
  const markDeleted = database.connection.prepare('UPDATE uploads SET deleted_at = ? WHERE sha256 = ? AND deleted_at IS NULL');
  const insert = prepareInsert(database);
  return {
    findUsable({ sha256, now }) {
      const row = select.get(sha256);
      if (row === undefined) return undefined;
      const record = parseRow(database, row);
      if (record.deletedAt !== undefined) return undefined;
      return Date.parse(record.expirationTime) - options.requiredLifetimeMilliseconds > now ? record : undefined;
    },
    async record(upload) {
      insert(upload);
    },
    async close() {
      database.close();
    },
    async recordDeletion({ sha256, now }) {
      markDeleted.run(new Date(now).toISOString(), sha256);
    },
    listHeld: (now) => listHeldUploads(selectUndeleted.all().map((row) => parseRow(database, row)), now),
    listUndeleted: () => selectUndeleted.all().map((row) => parseRow(database, row)),
  };
}

/** The registry's records, read without opening it for writing (for `chargen clean`): the database's and an old log's. */
export async function readUploadRecords(options: { stateDirectory: string }): Promise<UploadRecord[]> {
  const latest = new Map<string, UploadRecord>();
  const database = openWorkspaceDatabaseForReading({ path: stateDatabasePath(options.stateDirectory) });
  if (database) {
    try {
      for (const row of database.connection.prepare(`SELECT ${columns} FROM uploads`).iterate()) {
        const record = parseRow(database, row);
        latest.set(record.sha256, record);
      }
    } finally {
      database.close();
    }
  }
  const path = uploadRegistryPath(options.stateDirectory);
  if (await access(path).then(() => true, () => false)) for (const record of await readAppendLog({ path, kind, version, schema: uploadRecordSchema })) latest.set(record.sha256, record);
  return [...latest.values()];
}

/** An ephemeral backend (the built-in emulator) starts with no files: whatever the registry says of it is forgotten. */
export async function forgetUploadRecords(options: { stateDirectory: string; now: () => number }): Promise<void> {
  await rm(uploadRegistryPath(options.stateDirectory), { force: true });
  if (!(await access(stateDatabasePath(options.stateDirectory)).then(() => true, () => false))) return;
  const database = openWorkspaceDatabase({ path: stateDatabasePath(options.stateDirectory), now: options.now });
  try {
    database.connection.prepare('DELETE FROM uploads').run();
  } finally {
    database.close();
  }
}

/** Of the registry's records (the latest per sha256), the files held now: not deleted, not expired. */
export function listHeldUploads(records: readonly UploadRecord[], now: number): UploadRecord[] {
  const latest = new Map<string, UploadRecord>();
  for (const record of records) latest.set(record.sha256, record);
  return [...latest.values()].filter((record) => record.deletedAt === undefined && Date.parse(record.expirationTime) > now);
}
