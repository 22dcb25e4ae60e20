import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatTimestamp, type Clock } from './clock.ts';

export interface StoredFile {
  id: string;
  displayName?: string;
  mimeType: string;
  sizeBytes: number;
  createTime: number;
  updateTime: number;
  expirationTime: number;
  sha256Hex: string;
  source: 'UPLOADED' | 'GENERATED';
  blobPath: string;
}

export interface UploadSession {
  uploadId: string;
  declaredSize: number;
  mimeType: string;
  displayName?: string;
  requestedId?: string;
  received: number;
  blobPath: string;
}

export interface FileStore {
  startUpload(options: { declaredSize: number; mimeType: string; displayName?: string; requestedId?: string }): UploadSession;
  findUpload(uploadId: string): UploadSession | undefined;
  /** Appends a request body to the upload, streamed; resolves to the number of bytes it added. */
  appendChunk(session: UploadSession, body: Readable): Promise<number>;
  /** Takes back the last chunk (one the protocol refused after reading it). */
  discardLastChunk(session: UploadSession, bytes: number): Promise<void>;
  finalizeUpload(session: UploadSession): Promise<StoredFile>;
  /** Ends an upload without storing it: the session is over and its bytes are gone. */
  abandonUpload(session: UploadSession): Promise<void>;
  /** A file that exists and has not expired on the emulator's clock. */
  findLive(id: string): StoredFile | undefined;
  listLive(): StoredFile[];
  remove(id: string): Promise<boolean>;
  hasId(id: string): boolean;
  /** Registers a generated file whose bytes were written to `temporaryPath` (moved into the store). */
  registerGenerated(options: { id: string; mimeType: string; temporaryPath: string; displayName?: string }): Promise<StoredFile>;
  temporaryPath(label: string): string;
  openRead(file: StoredFile): ReadStream;
  clear(): Promise<void>;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export function createFileStore(options: {
  directory: string;
  clock: Clock;
  generateId: (length: number) => string;
  timeToLiveMilliseconds: () => number;
}): FileStore {
  const files = new Map<string, StoredFile>();
  const uploads = new Map<string, UploadSession>();
  let temporaryCounter = 0;

  const isLive = (file: StoredFile) => options.clock.now() < file.expirationTime;

  return {
    startUpload(upload) {
      const uploadId = options.generateId(32);
      const session: UploadSession = {
        uploadId,
        declaredSize: upload.declaredSize,
        mimeType: upload.mimeType,
        ...(upload.displayName !== undefined ? { displayName: upload.displayName } : {}),
        ...(upload.requestedId !== undefined ? { requestedId: upload.requestedId } : {}),
        received: 0,
        blobPath: join(options.directory, `upload-${uploadId}.part`),
      };
      uploads.set(uploadId, session);
      return session;
    },
    findUpload: (uploadId) => uploads.get(uploadId),
    async appendChunk(session, body) {
      let added = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          added += chunk.length;
          callback(null, chunk);
        },
      });
      try {
        await pipeline(body, counter, createWriteStream(session.blobPath, { flags: 'a' }));
      } catch (error) {
        // A chunk cut off midway leaves nothing behind: the client resends it from the last offset we confirmed.
        await truncate(session.blobPath, session.received).catch(() => undefined);
        throw error;
      }
      session.received += added;
      return added;
    },
    async discardLastChunk(session, bytes) {
      session.received -= bytes;
      await truncate(session.blobPath, session.received);
    },
    async finalizeUpload(session) {
      uploads.delete(session.uploadId);
      const now = options.clock.now();
      const id = session.requestedId ?? options.generateId(12);
      const file: StoredFile = {
        id,
        ...(session.displayName !== undefined ? { displayName: session.displayName } : {}),
        mimeType: session.mimeType,
        sizeBytes: session.received,
        createTime: now,
        updateTime: now,
        expirationTime: now + options.timeToLiveMilliseconds(),
        sha256Hex: await hashFile(session.blobPath),
        source: 'UPLOADED',
        blobPath: session.blobPath,
      };
      files.set(id, file);
      return file;
    },
    async abandonUpload(session) {
      uploads.delete(session.uploadId);
      await rm(session.blobPath, { force: true });
    },
    findLive(id) {
      const file = files.get(id);
      return file && isLive(file) ? file : undefined;
    },
    listLive: () => [...files.values()].filter(isLive),
    async remove(id) {
      const file = files.get(id);
      if (!file || !isLive(file)) return false;
      files.delete(id);
      await rm(file.blobPath, { force: true });
      return true;
    },
    hasId: (id) => files.has(id),
    async registerGenerated(generated) {
      const blobPath = join(options.directory, `file-${generated.id}`);
      await rename(generated.temporaryPath, blobPath);
      const now = options.clock.now();
      const file: StoredFile = {
        id: generated.id,
        ...(generated.displayName !== undefined ? { displayName: generated.displayName } : {}),
        mimeType: generated.mimeType,
        sizeBytes: (await stat(blobPath)).size,
        createTime: now,
        updateTime: now,
        expirationTime: now + options.timeToLiveMilliseconds(),
        sha256Hex: await hashFile(blobPath),
        source: 'GENERATED',
        blobPath,
      };
      files.set(generated.id, file);
      return file;
    },
    temporaryPath: (label) => join(options.directory, `tmp-${label}-${temporaryCounter++}`),
    openRead: (file) => createReadStream(file.blobPath),
    async clear() {
      const paths = [...[...files.values()].map((file) => file.blobPath), ...[...uploads.values()].map((upload) => upload.blobPath)];
      files.clear();
      uploads.clear();
      await Promise.all(paths.map((path) => rm(path, { force: true })));
    },
  };
}

/** The File resource as the API writes it (int64 as strings; `sha256Hash` is base64 of the hex digest, as observed). */
export function toFileResource(file: StoredFile, options: { origin: string; version: string }): Record<string, unknown> {
  return {
    name: `files/${file.id}`,
    ...(file.displayName !== undefined ? { displayName: file.displayName } : {}),
    mimeType: file.mimeType,
    sizeBytes: String(file.sizeBytes),
    createTime: formatTimestamp(file.createTime),
    updateTime: formatTimestamp(file.updateTime),
    expirationTime: formatTimestamp(file.expirationTime),
    sha256Hash: Buffer.from(file.sha256Hex, 'utf8').toString('base64'),
    uri: `${options.origin}/${options.version}/files/${file.id}`,
    ...(file.source === 'GENERATED'
      ? { downloadUri: `${options.origin}/download/${options.version}/files/${file.id}:download?alt=media` }
      : {}),
    state: 'ACTIVE',
    source: file.source,
  };
}
