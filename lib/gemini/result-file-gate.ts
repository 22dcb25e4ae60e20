import { statfs as statFileSystem } from 'node:fs/promises';
import { DiskFullError } from '../errors.ts';
import { createPermitQueue } from '../permit-queue.ts';

/** Free bytes of the file system holding `directory` (for an unprivileged process: `bavail`, not `bfree`). */
export type FreeBytesReader = (directory: string) => Promise<number>;

export async function readFreeBytes(directory: string): Promise<number> {
  const space = await statFileSystem(directory);
  return space.bavail * space.bsize;
}

/** What the download asks before it writes: room now, or a promise that settles when room may have been freed. */
export type RoomAnswer = { kind: 'reserved' } | { kind: 'wait'; until: Promise<void> };

/** One result file's place: held from before its download until it has been read and deleted. */
export interface ResultFileSlot {
  /**
   * Reserves `bytes` of disk in `directory` for this slot's download. Room is the free bytes less what downloads in
   * flight have reserved. Short of room while other slots hold files or downloads that will go: wait. Short with
   * nothing else that could free room: a DiskFullError.
   */
  reserveRoom(options: { bytes: number; directory: string; fileName: string }): Promise<RoomAnswer>;
  /** The download ended (written whole, or cut with a part on disk): its reservation goes, its bytes stay counted by the disk. */
  endDownload(options: { bytesOnDisk: number }): void;
  /** The file was read and deleted (or never came): the place goes to the next. */
  release(): void;
}

export interface ResultFileGate {
  /** Waits for a place: at most `maxFiles` result files (or downloads of them) exist at once. */
  acquire(): Promise<ResultFileSlot>;
}

interface SlotState {
  reservedBytes: number;
  /** Bytes of this slot's file (or part) on disk: what its release will free. */
  bytesOnDisk: number;
}

/**
 * Shared by the batch executors of a run: result files are gigabytes when they carry images, so only a few exist at
 * once, and a download starts only when the disk has room for it.
 */
export function createResultFileGate(options: { maxFiles: number; readFreeBytes?: FreeBytesReader }): ResultFileGate {
  const read = options.readFreeBytes ?? readFreeBytes;
  const held = new Set<SlotState>();
  // Places go in the order asked: one given back passes straight to the next waiter, never to a later caller.
  const places = createPermitQueue({ capacity: options.maxFiles });
  // Checks of room one at a time, so that two downloads never both count the same free bytes.
  let checking: Promise<unknown> = Promise.resolve();
  let changeWaiters: (() => void)[] = [];
  const announceChange = () => {
    const waiters = changeWaiters;
    changeWaiters = [];
    for (const wake of waiters) wake();
  };
  const nextChange = () => new Promise<void>((resolve) => changeWaiters.push(resolve));

  const checkRoom = async (state: SlotState, request: { bytes: number; directory: string; fileName: string }): Promise<RoomAnswer> => {
    const free = await read(request.directory);
    const reservedByOthers = [...held].reduce((total, other) => (other === state ? total : total + other.reservedBytes), 0);
    if (free - reservedByOthers >= request.bytes) {
      state.reservedBytes = request.bytes;
      return { kind: 'reserved' };
    }
    const othersWillFree = [...held].some((other) => other !== state && (other.reservedBytes > 0 || other.bytesOnDisk > 0));
    if (!othersWillFree) {
      throw new DiskFullError({ directory: request.directory, neededBytes: request.bytes, freeBytes: Math.max(0, free - reservedByOthers), fileName: request.fileName });
    }
    return { kind: 'wait', until: nextChange() };
  };

  const createSlot = (state: SlotState, releasePlace: () => void): ResultFileSlot => ({
    reserveRoom(request) {
      const answer = checking.then(() => checkRoom(state, request));
      checking = answer.catch(() => undefined);
      return answer;
    },
    endDownload({ bytesOnDisk }) {
      state.reservedBytes = 0;
      state.bytesOnDisk = bytesOnDisk;
      announceChange();
    },
    release() {
      if (!held.delete(state)) return;
      announceChange();
      releasePlace();
    },
  });

  return {
    async acquire() {
      const releasePlace = await places.acquire();
      const state: SlotState = { reservedBytes: 0, bytesOnDisk: 0 };
      held.add(state);
      return createSlot(state, releasePlace);
    },
  };
}
