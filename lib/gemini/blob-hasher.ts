import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The sha256 of each blob a result reader writes, which names its file. Fed the decoded pieces as they go to disk and
 * asked for the digest at the blob's end.
 */
export interface BlobHasher {
  /** A new blob's hash; `update` and `digest` take the id it returns. */
  start(): number;
  /** Takes the pieces (copied: the caller may reuse them once it resolves); resolves when more may be given. */
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

// Plain JavaScript, evaluated: the worker needs no TypeScript loader. It hashes a slot of the shared buffer, then
// gives the slot back.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const shared = new Uint8Array(workerData.shared);
const hashes = new Map();
parentPort.on('message', (message) => {
  if (message.slot !== undefined) {
    let hash = hashes.get(message.id);
    if (hash === undefined) hashes.set(message.id, (hash = createHash('sha256')));
    const start = message.slot * workerData.slotBytes;
    hash.update(shared.subarray(start, start + message.length));
    parentPort.postMessage({ freed: message.slot });
  } else {
    const hash = hashes.get(message.id) ?? createHash('sha256');
    hashes.delete(message.id);
    parentPort.postMessage({ id: message.id, sha256: hash.digest('hex') });
  }
});
`;

/**
 * The bytes on their way to the worker live in a fixed shared buffer (slots), copied in: moving decoded pieces to
 * the worker instead left them to its garbage collector, which freed them late (peak RSS +40 MB on bench:extract).
 */
const slotBytes = 1024 * 1024;
const slotCount = 8;

/**
 * Hashing on a worker thread, so that the reader's thread only decodes and writes: sha256 and base64 decoding cost
 * about the same per byte here, and a second core does the one while the first does the other.
 */
export function createWorkerBlobHasher(): BlobHasher {
  const shared = new SharedArrayBuffer(slotBytes * slotCount);
  const slots = Buffer.from(shared);
  const worker = new Worker(workerSource, { eval: true, workerData: { shared, slotBytes } });
  worker.unref();
  const freeSlots = Array.from({ length: slotCount }, (_unused, index) => index);
  const slotWaiters: (() => void)[] = [];
  const digests = new Map<number, { resolve: (sha256: string) => void; reject: (error: Error) => void }>();
  let failure: Error | undefined;
  let nextId = 0;
  worker.on('message', (message: { freed?: number; id?: number; sha256?: string }) => {
    if (message.freed !== undefined) {
      freeSlots.push(message.freed);
      slotWaiters.shift()?.();
      return;
    }
    digests.get(message.id!)?.resolve(message.sha256!);
    digests.delete(message.id!);
  });
  worker.once('error', (error) => {
    failure = error;
    for (const wake of slotWaiters.splice(0)) wake();
    for (const waiting of digests.values()) waiting.reject(error);
    digests.clear();
  });
  const takeSlot = async (): Promise<number> => {
    while (freeSlots.length === 0 && failure === undefined) await new Promise<void>((resolve) => slotWaiters.push(resolve));
    if (failure) throw failure;
    return freeSlots.shift()!;
  };
  return {
    start: () => (nextId += 1),
    async update(id, pieces) {
      // Pieces are packed into slots; a slot goes to the worker when full, and the last one when the pieces end.
      let slot: number | undefined;
      let filled = 0;
      for (const piece of pieces) {
        for (let offset = 0; offset < piece.length; ) {
          if (slot === undefined) slot = await takeSlot();
          const taken = piece.copy(slots, slot * slotBytes + filled, offset, Math.min(piece.length, offset + slotBytes - filled));
          offset += taken;
          filled += taken;
          if (filled === slotBytes) {
            worker.postMessage({ id, slot, length: filled });
            slot = undefined;
            filled = 0;
          }
        }
      }
      if (slot !== undefined) worker.postMessage({ id, slot, length: filled });
    },
    digest(id) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        digests.set(id, { resolve, reject });
        worker.postMessage({ id });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}
