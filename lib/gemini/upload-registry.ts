import { z } from 'zod';
import { openAppendLog, readAppendLog, type AppendLog } from '../store/append-log.ts';

export const uploadRecordSchema = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    name: z.string().startsWith('files/'),
    uri: z.string().min(1),
    mimeType: z.string().min(1),
    sizeBytes: z.number().int().nonnegative(),
    expirationTime: z.iso.datetime({ offset: true }),
    /** Set on the line that says the file was deleted (or found gone): it is held no more and never reused. */
    deletedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type UploadRecord = z.infer<typeof uploadRecordSchema>;

const kind = 'chargen-upload-registry';
const version = 1;

/**
 * Which bytes are already on the Files API, by sha256: a file is reused only while it will outlive the work that will
 * reference it (a batch job may run 24 h and more; files expire 48 h after upload), so a request never points at a
 * file that dies before its job reads it.
 */
export interface UploadRegistry {
  findUsable(options: { sha256: string; now: number }): UploadRecord | undefined;
  record(upload: UploadRecord): Promise<void>;
  /** Says the file of these bytes was deleted (or is gone): a line of its own, so the log keeps the history. */
  recordDeletion(options: { sha256: string; now: number }): Promise<void>;
  /** The files held now: uploaded, not deleted, not expired. */
  listHeld(now: number): UploadRecord[];
  all(): UploadRecord[];
  close(): Promise<void>;
}

export async function openUploadRegistry(options: {
  path: string;
  /** How long a reused file must still live: the job deadline plus a margin in batch mode (see uploadLifetimeFor). */
  requiredLifetimeMilliseconds: number;
  onSkippedLine?: (lineNumber: number, reason: string) => void;
}): Promise<UploadRegistry> {
  const records = await readAppendLog({ path: options.path, kind, version, schema: uploadRecordSchema, ...(options.onSkippedLine ? { onSkippedLine: options.onSkippedLine } : {}) });
  const latest = new Map<string, UploadRecord>();
  for (const record of records) latest.set(record.sha256, record);
  const log: AppendLog<UploadRecord> = await openAppendLog({ path: options.path, kind, version });
  return {
    findUsable({ sha256, now }) {
      const record = latest.get(sha256);
      if (!record || record.deletedAt !== undefined) return undefined;
      return Date.parse(record.expirationTime) - options.requiredLifetimeMilliseconds > now ? record : undefined;
    },
    async record(upload) {
      latest.set(upload.sha256, upload);
      await log.append(upload);
    },
    async recordDeletion({ sha256, now }) {
      const record = latest.get(sha256);
      if (!record || record.deletedAt !== undefined) return;
      const deleted = { ...record, deletedAt: new Date(now).toISOString() };
      latest.set(sha256, deleted);
      await log.append(deleted);
    },
    listHeld: (now) => listHeldUploads([...latest.values()], now),
    all: () => [...latest.values()],
    close: () => log.close(),
  };
}

/** The registry's records, read without opening it for writing (for `chargen clean`). */
export async function readUploadRecords(path: string): Promise<UploadRecord[]> {
  return readAppendLog({ path, kind, version, schema: uploadRecordSchema });
}

/** Of the registry's records (the latest per sha256), the files held now: not deleted, not expired. */
export function listHeldUploads(records: readonly UploadRecord[], now: number): UploadRecord[] {
  const latest = new Map<string, UploadRecord>();
  for (const record of records) latest.set(record.sha256, record);
  return [...latest.values()].filter((record) => record.deletedAt === undefined && Date.parse(record.expirationTime) > now);
}
