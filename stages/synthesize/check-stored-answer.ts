import type { LineOutcome } from '../../pipeline/gemini/line-outcome.ts';
import type { Logger } from '../../pipeline/logger.ts';
import { checkStoredBlob, type StoredBlobState } from './check-stored-blob.ts';
import { chooseImage, type BlobReference } from './choose-image.ts';

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
      const choice = chooseImage(outcome.response);
      if (!choice.ok) return false;
      const { image, thoughtImages } = choice;
      const blobs = [image.blob, ...(image.signature ? [image.signature] : []), ...(options.keepThoughts ? thoughtImages.map((part) => part.blob) : [])];
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
