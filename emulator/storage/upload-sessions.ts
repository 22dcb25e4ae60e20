import { closeSync, createWriteStream, openSync } from 'node:fs';
import { rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StoredObject } from './object-store.ts';
import type { Preconditions } from './preconditions.ts';

/** A resumable upload: what its start said, and the bytes received so far in one file. */
export interface ResumableSession {
  id: string;
  bucket: string;
  name: string;
  contentType: string;
  /** Checked when the upload completes, against the object there then. */
  preconditions: Preconditions;
  /** X-Upload-Content-Length of the start, if it gave one. */
  declaredSize: number | undefined;
  received: number;
  path: string;
  /** The object it made, once complete: a repeated final request is answered with it. */
  result?: StoredObject;
}

export interface UploadSessions {
  start(options: Pick<ResumableSession, 'bucket' | 'name' | 'contentType' | 'preconditions' | 'declaredSize'>): ResumableSession;
  find(id: string): ResumableSession | undefined;
  /**
   * Appends a chunk's body, dropping its first `skip` bytes (already received: a client resending from an older
   * offset); resolves to the bytes kept. A body cut off midway keeps nothing of it.
   */
  append(session: ResumableSession, body: Readable, skip: number): Promise<number>;
  /** Keeps only the first `bytes` received (the service keeps whole 256 KiB units of a non-final chunk). */
  keep(session: ResumableSession, bytes: number): Promise<void>;
  end(session: ResumableSession): Promise<void>;
  clear(): Promise<void>;
}

export function createUploadSessions(options: { directory: string; generateId: (length: number) => string }): UploadSessions {
  const sessions = new Map<string, ResumableSession>();
  return {
    start(start) {
      const id = options.generateId(32);
      const session: ResumableSession = { ...start, id, received: 0, path: join(options.directory, `storage-upload-${id}.part`) };
      // An empty upload is an object too: its file exists from the start.
      closeSync(openSync(session.path, 'w'));
      sessions.set(id, session);
      return session;
    },
    find: (id) => sessions.get(id),
    async append(session, body, skip) {
      let toSkip = skip;
      let kept = 0;
      const skipper = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          const dropped = Math.min(toSkip, chunk.length);
          toSkip -= dropped;
          kept += chunk.length - dropped;
          callback(null, dropped > 0 ? chunk.subarray(dropped) : chunk);
        },
      });
      try {
        await pipeline(body, skipper, createWriteStream(session.path, { flags: 'a' }));
      } catch (error) {
        await truncate(session.path, session.received).catch(() => undefined);
        throw error;
      }
      session.received += kept;
      return kept;
    },
    async keep(session, bytes) {
      if (bytes >= session.received) return;
      session.received = bytes;
      await truncate(session.path, bytes);
    },
    async end(session) {
      sessions.delete(session.id);
      await rm(session.path, { force: true });
    },
    async clear() {
      const paths = [...sessions.values()].map((session) => session.path);
      sessions.clear();
      await Promise.all(paths.map((path) => rm(path, { force: true })));
    },
  };
}
