import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The sha256 of each blob a result reader writes, which names its file. Fed the decoded pieces as they go to disk and
 * asked for the digest at the blob's end.
 */
export interface BlobHasher {
  /** A new blob's hash; `update` and `digest` take the id it returns. */
  start(): number;
  /**
   * Takes the pieces, whose memory is handed over: the caller must not touch them afterwards (a worker takes them
   * without a copy). Resolves when more may be given.
   */
  update(id: number, pieces: readonly Buffer[]): Promise<void>;
  digest(id: number): Promise<string>;
  close(): Promise<void>;
}

/** Hashing on the reader's own thread, beside the write. */
export function createInlineBlobHasher(): BlobHasher {
  const hashes = new Map<number, Hash>();
  let nextId = 0;
  return {
    start() {
      nextId += 1;
      hashes.set(nextId, createHash('sha256'));
      return nextId;
    },
    async update(id, pieces) {
      const hash = hashes.get(id)!;
      for (const piece of pieces) hash.update(piece);
    },
    async digest(id) {
      const hash = hashes.get(id)!;
      hashes.delete(id);
      return hash.digest('hex');
    },
    async close() {
      hashes.clear();
    },
  };
}

// Plain JavaScript, evaluated: the worker needs no TypeScript loader. It acknowledges every piece list by its size.
const workerSource = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (message) => {
  if (message.pieces !== undefined) {
    let hash = hashes.get(message.id);
    if (hash === undefined) hashes.set(message.id, (hash = createHash('sha256')));
    let bytes = 0;
    for (const piece of message.pieces) { hash.update(piece); bytes += piece.length; }
    parentPort.postMessage({ acknowledged: bytes });
  } else {
    const hash = hashes.get(message.id) ?? createHash('sha256');
    hashes.delete(message.id);
    parentPort.postMessage({ id: message.id, sha256: hash.digest('hex') });
  }
});
`;

/** Bytes handed to the worker and not yet hashed, past which the reader waits: memory stays flat if hashing lags. */
const maxQueuedBytes = 8 * 1024 * 1024;

/**
 * The backing stores a message can move rather than copy: those a piece fills (a decoded piece owns its own); a small
 * piece in a shared pool slab is copied with the message instead, since moving the slab would take it from others.
 */
function collectTransferable(pieces: readonly Buffer[]): ArrayBuffer[] {
  const stores = new Set<ArrayBuffer>();
  for (const piece of pieces) {
    if (piece.buffer instanceof ArrayBuffer && piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength) stores.add(piece.buffer);
  }
  return [...stores];
}

/**
 * Hashing on a worker thread, so that the reader's thread only decodes and writes: sha256 and base64 decoding cost
 * about the same per byte here, and a second core does the one while the first does the other.
 */
export function createWorkerBlobHasher(): BlobHasher {
  const worker = new Worker(workerSource, { eval: true });
  worker.unref();
  const digests = new Map<number, { resolve: (sha256: string) => void; reject: (error: Error) => void }>();
  let queuedBytes = 0;
  let drained: (() => void)[] = [];
  let failure: Error | undefined;
  let nextId = 0;
  worker.on('message', (message: { acknowledged?: number; id?: number; sha256?: string }) => {
    if (message.acknowledged !== undefined) {
      queuedBytes -= message.acknowledged;
      if (queuedBytes <= maxQueuedBytes) for (const wake of drained.splice(0)) wake();
      return;
    }
    digests.get(message.id!)?.resolve(message.sha256!);
    digests.delete(message.id!);
  });
  worker.once('error', (error) => {
    failure = error;
    for (const wake of drained.splice(0)) wake();
    for (const waiting of digests.values()) waiting.reject(error);
    digests.clear();
  });
  return {
    start: () => (nextId += 1),
    async update(id, pieces) {
      if (failure) throw failure;
      for (const piece of pieces) queuedBytes += piece.length;
      worker.postMessage({ id, pieces }, collectTransferable(pieces));
      while (queuedBytes > maxQueuedBytes && failure === undefined) await new Promise<void>((resolve) => drained.push(resolve));
      if (failure) throw failure;
    },
    digest(id) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        digests.set(id, { resolve, reject });
        worker.postMessage({ id });
      });
    },
    async close() {
      drained = [];
      await worker.terminate();
    },
  };
}
