import type { GoogleGenAI } from '@google/genai';
import { z } from 'zod';
import type { GeminiCallError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { readJsonFile, writeJsonAtomic } from '../store/atomic-file.ts';
import { callWithRetry, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import { readApiErrorMessage } from './read-api-error.ts';
import { requestMimeTypePath } from '../store/workspace-layout.ts';
import { createPermitQueue } from '../permit-queue.ts';

/**
 * Tried, each once, after `gemini.jsonlMimeType` is refused: `jsonl` (Google's batch docs and cookbook), then
 * `application/jsonl`. Both have also been refused at times (python-genai#1547; cookbook#1008), hence the order: the
 * default `application/json` is the one never reported refused (Google's own notebook runs upload it).
 */
export const alternativeJsonlMimeTypes = ['jsonl', 'application/jsonl'] as const;

/** Which spelling the API last took, and for which configured one: a changed setting starts afresh. */
const mimeMemorySchema = z
  .object({ version: z.literal(1), configured: z.string().min(1), accepted: z.string().min(1), acceptedAt: z.iso.datetime() })
  .strict();

const memoryFix = 'It records which MIME type the Files API took for request files; delete it and chargen tries again from gemini.jsonlMimeType.';

/** `mimeType`: the spelling the Files API took (the configured one, a remembered one, or a fallback). */
export type RequestFileUpload = { status: 'uploaded'; fileName: string; mimeType: string } | { status: 'refused'; reason: string };

export interface RequestFileUploader {
  upload(file: { path: string; displayName: string }): Promise<RequestFileUpload>;
}

/** The recorded refusal: 400 "Unsupported MIME type: …" answered to the upload's finalize (python-genai#1547). */
function isMimeTypeRefusal(error: GeminiCallError): boolean {
  return error.status === 400 && /Unsupported MIME type/i.test(readApiErrorMessage(error) ?? error.message);
}

/**
 * Request files uploading at once. The SDK reads a file it uploads into memory a piece of up to 8 MB at a time and
 * copies each piece into a Blob, so the 16 chunks under way of a large run, uploading their request files (megabytes
 * each) together, could hold 16 × 2 × 8 MB. Bounded by arithmetic, not by a measured peak: at 4,000 images in 4 chunks
 * the peak RSS was the same with and without the bound (306 and 307 MB). Two at a time is seconds against jobs that
 * take minutes to hours.
 */
const requestFileUploadsAtOnce = 2;

/**
 * Uploads request files under a MIME type the Files API takes. On the recorded refusal it starts a new upload with
 * the next spelling (the refused session is final), each spelling at most once per executor; the spelling that works
 * is remembered in the workspace, so later runs start with it. Until one has worked, uploads go one at a time, so
 * that a refused spelling costs one upload rather than one per chunk in flight. When every spelling is refused, each
 * upload is answered `refused` at once, and nothing is uploaded again.
 */
export function createRequestFileUploader(options: {
  client: GoogleGenAI;
  workspaceDirectory: string;
  configuredMimeType: string;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
  now: () => number;
  logger: Logger;
}): RequestFileUploader {
  const { logger, configuredMimeType } = options;
  const memoryPath = requestMimeTypePath(options.workspaceDirectory);
  const refused = new Map<string, string>();
  let confirmed: string | undefined;
  let spellings: Promise<string[]> | undefined;
  let probe: Promise<RequestFileUpload> | undefined;
  const slots = createPermitQueue({ capacity: requestFileUploadsAtOnce });

  async function readSpellings(): Promise<string[]> {
    const memory = await readJsonFile(memoryPath, mimeMemorySchema, memoryFix);
    const remembered = memory?.configured === configuredMimeType ? memory.accepted : undefined;
    if (remembered !== undefined && remembered !== configuredMimeType) {
      logger.info(`request files: uploading as ${remembered}, which the Files API took when ${configuredMimeType} was refused (${memoryPath})`);
    }
    return [...new Set([...(remembered !== undefined ? [remembered] : []), configuredMimeType, ...alternativeJsonlMimeTypes])];
  }

  async function accept(mimeType: string, order: readonly string[]): Promise<void> {
    if (confirmed === mimeType) return;
    confirmed = mimeType;
    if (mimeType === order[0]) return;
    await writeJsonAtomic(memoryPath, { version: 1, configured: configuredMimeType, accepted: mimeType, acceptedAt: new Date(options.now()).toISOString() });
    logger.info(`request files: the Files API took ${mimeType}; later runs start with it (remembered in ${memoryPath})`);
  }

  function describeRefusals(order: readonly string[]): string {
    const tried = order.map((mimeType) => `${mimeType} ("${refused.get(mimeType) ?? 'refused'}")`).join(', ');
    return `request file not uploaded: the Files API refused every MIME type tried for it: ${tried}; gemini.jsonlMimeType is ${configuredMimeType}`;
  }

  async function uploadTrying(file: { path: string; displayName: string }): Promise<RequestFileUpload> {
    const release = await slots.acquire();
    try {
      return await uploadInSlot(file);
    } finally {
      release();
    }
  }

  async function uploadInSlot(file: { path: string; displayName: string }): Promise<RequestFileUpload> {
    spellings ??= readSpellings();
    const order = await spellings;
    for (const mimeType of order) {
      if (refused.has(mimeType)) continue;
      try {
        const uploaded = await callWithRetry({
          operation: `upload ${file.path}`,
          call: () => options.client.files.upload({ file: file.path, config: { mimeType, displayName: file.displayName } }),
          ...options.retry,
        });
        if (!uploaded.name) throw new Error('the Files API answered without a file name');
        await accept(mimeType, order);
        return { status: 'uploaded', fileName: uploaded.name, mimeType };
      } catch (caught) {
        const error = toGeminiCallError(`upload ${file.path}`, caught);
        if (!isMimeTypeRefusal(error)) throw error;
        if (confirmed === mimeType) confirmed = undefined;
        if (refused.has(mimeType)) continue;
        refused.set(mimeType, readApiErrorMessage(error) ?? error.message);
        const next = order.find((candidate) => !refused.has(candidate));
        logger.warn(`request files: the Files API refused MIME type ${mimeType} (${refused.get(mimeType)})${next ? `; trying ${next} in a new upload` : ''}`);
      }
    }
    return { status: 'refused', reason: describeRefusals(order) };
  }

  return {
    async upload(file) {
      // Until a spelling has worked, one upload at a time finds it; the others wait for it, then go in parallel.
      while (confirmed === undefined && probe !== undefined) await probe.catch(() => undefined);
      if (confirmed !== undefined) return uploadTrying(file);
      const attempt = uploadTrying(file);
      probe = attempt;
      try {
        return await attempt;
      } finally {
        if (probe === attempt) probe = undefined;
      }
    },
  };
}
