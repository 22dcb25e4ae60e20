import { join } from 'node:path';
import { writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import { cassetteFileName, type Cassette, type Interaction } from './cassette-schema.ts';

export interface CassetteRecorder {
  /**
   * Takes the interaction's place in the cassette now, in arrival order, and fills it when the interaction is
   * done (`undefined`: it failed and is left out). The cassette file is rewritten after each one.
   */
  record(interaction: Promise<Interaction | undefined>): void;
  /** Waits for interactions under way, writes the cassette, and throws if any write of it failed. */
  save(): Promise<void>;
}

export function createCassetteRecorder(options: { cassetteDirectory: string; recordedAgainst: string }): CassetteRecorder {
  const path = join(options.cassetteDirectory, cassetteFileName);
  const slots: (Interaction | 'pending' | 'failed')[] = [];
  const underWay = new Set<Promise<void>>();
  let writing: Promise<void> = Promise.resolve();
  let isWriteQueued = false;
  let writeError: unknown;

  const takeSnapshot = (): Cassette => ({
    version: 1,
    recordedAgainst: options.recordedAgainst,
    interactions: slots.filter((slot): slot is Interaction => typeof slot !== 'string'),
  });

  // Writes are chained so two never race on the rename, and coalesced: one queued write covers every
  // interaction that finishes before it starts.
  const queueWrite = (): Promise<void> => {
    if (isWriteQueued) return writing;
    isWriteQueued = true;
    writing = writing.then(async () => {
      isWriteQueued = false;
      try {
        await writeJsonAtomic(path, takeSnapshot());
        writeError = undefined;
      } catch (error) {
        writeError = error;
      }
    });
    return writing;
  };

  return {
    record(interaction) {
      const index = slots.push('pending') - 1;
      const settled = interaction.then(
        (value) => {
          slots[index] = value ?? 'failed';
        },
        () => {
          slots[index] = 'failed';
        },
      );
      const tracked = settled.then(() => {
        underWay.delete(tracked);
        void queueWrite();
      });
      underWay.add(tracked);
    },
    async save() {
      while (underWay.size > 0) await Promise.all(underWay);
      await queueWrite();
      if (writeError !== undefined) throw writeError;
    },
  };
}
