import { stat } from 'node:fs/promises';
import { blobPath } from '../../lib/gemini/blob-file.ts';
import type { LineOutcome } from '../../lib/gemini/line-outcome.ts';
import type { Logger } from '../../lib/logger.ts';
import { checkStoredBlob, type StoredBlobState } from './check-stored-blob.ts';
import type { BlobReference } from '../../schemas/blob-reference.ts';
import { chooseImage, type ImageChoice } from './core/choose-image.ts';

/** The files an answer places: its image, its signature and, when kept, its thought images. */
function listPlacedBlobs(options: { outcome: Extract<LineOutcome, { status: 'succeeded' }>; keepThoughts: boolean; choose?: (response: Record<string, unknown>) => ImageChoice }): BlobReference[] | undefined {
  const choice = (options.choose ?? chooseImage)(options.outcome.response);
  if (!choice.ok) return undefined;
  const { image, thoughtImages } = choice;
  return [image.blob, ...(image.signature ? [image.signature] : []), ...(options.keepThoughts ? thoughtImages.map((part) => part.blob) : [])];
}

/**
 * For plans and dry runs, which must be quick: whether an answer's files are all still in the store, by their
 * sizes (the run itself checks their hashes before using them).
 */
export async function hasStoredFiles(options: { outcome: LineOutcome; blobDirectory: string; keepThoughts: boolean }): Promise<boolean> {
  if (options.outcome.status !== 'succeeded') return true;
  const blobs = listPlacedBlobs({ outcome: options.outcome, keepThoughts: options.keepThoughts });
  if (!blobs) return false;
  for (const blob of blobs) {
    const found = await stat(blobPath({ blobDirectory: options.blobDirectory, blob })).catch(() => undefined);
    if (found?.size !== blob.bytes) return false;
  }
  return true;
}

export interface StoredAnswerCheck {
  /** For the executor's `isCachedUsable`: a cached answer is used only when every file it places is intact. */
  isUsable(outcome: LineOutcome): Promise<boolean>;
  /** Answers found unusable because their files were gone from the store (not changed: those are said one by one). */
  countMissing(): number;
}

/**
 * Judges answers received in an earlier run before they are used instead of a request: the image, its signature and
 * (when kept) its thought images must all be in the store with bytes that hash to their names. A changed file is
 * said at once, naming the image it belonged to; the answer is then asked again.
 */
export function createStoredAnswerCheck(options: {
  blobDirectory: string;
  keepThoughts: boolean;
  /** Names a request key's image for messages (`hero.png`, `hero.png variant 2`). */
  describeKey: (key: string) => string;
  logger: Logger;
  /** The run's image choice, so that each answer's image is chosen once. */
  choose?: (response: Record<string, unknown>) => ImageChoice;
}): StoredAnswerCheck {
  const states = new Map<string, Promise<StoredBlobState>>();
  const reported = new Set<string>();
  let missing = 0;
  const check = (blob: BlobReference) => {
    let state = states.get(blob.sha256);
    if (!state) {
      state = checkStoredBlob({ blobDirectory: options.blobDirectory, blob });
      states.set(blob.sha256, state);
    }
    return state;
  };
  return {
    async isUsable(outcome) {
      if (outcome.status !== 'succeeded') return true;
      const blobs = listPlacedBlobs({ outcome, keepThoughts: options.keepThoughts, ...(options.choose ? { choose: options.choose } : {}) });
      if (!blobs) return false;
      for (const blob of blobs) {
        const state = await check(blob);
        if (state === 'intact') continue;
        if (reported.has(outcome.key)) return false;
        reported.add(outcome.key);
        if (state === 'changed') {
          options.logger.warn(`synthesize: the stored answer for ${options.describeKey(outcome.key)} was changed on disk (${blob.sha256.slice(0, 12)}… no longer hashes to its name); asking for it again`);
        } else {
          missing += 1;
        }
        return false;
      }
      return true;
    },
    countMissing: () => missing,
  };
}
