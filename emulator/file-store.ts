import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { updateCrc32c } from '../lib/crc32c.ts';
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
  /** What the download front end sends as `X-Goog-Hash: crc32c=…`. */
  crc32c: number;
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
  /** Streams the file's bytes, or those from `start` to `end` (inclusive byte offsets, for a Range). */
  openRead(file: StoredFile, options?: { start: number; end: number }): ReadStream;
  clear(): Promise<void>;
}

/** Both hashes in one read: the sha256 of the File resource and the crc32c of the download's X-Goog-Hash. */
async function hashFile(path: string): Promise<{ sha256Hex: string; crc32c: number }> {
  const hash = createHash('sha256');
  let crc32c = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    crc32c = updateCrc32c(crc32c, chunk);
  }
  return { sha256Hex: hash.digest('hex'), crc32c };
}

interface FileStoreOptions {
  directory: string;
  clock: Clock;
  generateId: (length: number) => string;
  timeToLiveMilliseconds: () => number;
}

/** The store's state, shared by its upload half and its file half. */
interface FileStoreState {
  options: FileStoreOptions;
  files: Map<string, StoredFile>;
  uploads: Map<string, UploadSession>;
}

export function createFileStore(options: FileStoreOptions): FileStore {
  const state: FileStoreState = { options, files: new Map(), uploads: new Map() };
  return { ...createUploadMethods(state), ...createFileMethods(state) };
}

type UploadMethods = Pick<FileStore, 'startUpload' | 'findUpload' | 'appendChunk' | 'discardLastChunk' | 'finalizeUpload' | 'abandonUpload'>;

/** Resumable uploads: a session per upload, its bytes appended chunk by chunk to one `.part` file. */
function createUploadMethods(state: FileStoreState): UploadMethods {
  const { options, uploads } = state;
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
    appendChunk,
    async discardLastChunk(session, bytes) {
      session.received -= bytes;
      await truncate(session.blobPath, session.received);
    },
    async finalizeUpload(session) {
      uploads.delete(session.uploadId);
      const now = options.clock.now();
      const id = session.requestedId ?? options.generateId(12);
      return storeFile(state, {
        id,
        displayName: session.displayName,
        mimeType: session.mimeType,
        sizeBytes: session.received,
        now,
        source: 'UPLOADED',
        blobPath: session.blobPath,
      });
    },
    async abandonUpload(session) {
      uploads.delete(session.uploadId);
      await rm(session.blobPath, { force: true });
    },
  };
}

async function appendChunk(session: UploadSession, body: Readable): Promise<number> {
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
}

type FileMethods = Omit<FileStore, keyof UploadMethods>;

/** Stored files: uploaded or generated, live until their expiration time on the emulator's clock. */
function createFileMethods(state: FileStoreState): FileMethods {
  const { options, files, uploads } = state;
  let temporaryCounter = 0;
  const isLive = (file: StoredFile) => options.clock.now() < file.expirationTime;
  return {
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
      const sizeBytes = (await stat(blobPath)).size;
      return storeFile(state, {
        id: generated.id,
        displayName: generated.displayName,
        mimeType: generated.mimeType,
        sizeBytes,
        now,
        source: 'GENERATED',
        blobPath,
      });
    },
    temporaryPath: (label) => join(options.directory, `tmp-${label}-${temporaryCounter++}`),
    openRead: (file, range) => createReadStream(file.blobPath, range),
    async clear() {
      const paths = [...[...files.values()].map((file) => file.blobPath), ...[...uploads.values()].map((upload) => upload.blobPath)];
      files.clear();
      uploads.clear();
      await Promise.all(paths.map((path) => rm(path, { force: true })));
    },
  };
}

/** Records a file whose bytes are in place at `blobPath`, hashing them; it expires a time-to-live after `now`. */
async function storeFile(
  state: FileStoreState,
  file: Pick<StoredFile, 'id' | 'mimeType' | 'sizeBytes' | 'source' | 'blobPath'> & { displayName: string | undefined; now: number },
): Promise<StoredFile> {
  const stored: StoredFile = {
    id: file.id,
    ...(file.displayName !== undefined ? { displayName: file.displayName } : {}),
    mimeType: file.mimeType,
    sizeBytes: file.sizeBytes,
    createTime: file.now,
    updateTime: file.now,
    expirationTime: file.now + state.options.timeToLiveMilliseconds(),
    ...(await hashFile(file.blobPath)),
    source: file.source,
    blobPath: file.blobPath,
  };
  state.files.set(file.id, stored);
  return stored;
}

/** The File resource as the API writes it (int64 as strings; `sha256Hash` is base64 of the hex digest, as observed). */
export function toFileResource(file: StoredFile, options: { origin: string; version: string }): Record<string, unknown> {
  return {
    name: `files/${file.id}`,
    ...(file.displayName !== undefined ? { displayName: file.displayName } : {}),
    mimeType: file.mimeType,
    sizeBytes: String(file.sizeBytes),
    createTime: formatTimestamp(file.createTime, 'microseconds'),
    updateTime: formatTimestamp(file.updateTime, 'microseconds'),
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
