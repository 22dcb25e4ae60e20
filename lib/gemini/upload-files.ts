import { openAsBlob } from 'node:fs';
import type { GoogleGenAI } from '@google/genai';
import { InterruptedError, type GeminiCallError } from '../errors.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { callWithRetry, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import type { UploadRecord, UploadRegistry } from './upload-registry.ts';

export interface UploadCandidate {
  /** Where the bytes are; read by the SDK in 8 MiB chunks, never whole. */
  path: string;
  sha256: string;
  mimeType: string;
  sizeBytes: number;
  displayName?: string;
}

export type UploadOutcome =
  | { status: 'uploaded'; sha256: string; file: UploadRecord; reused: boolean }
  | { status: 'failed'; sha256: string; error: GeminiCallError };

/** `refresh` names the images to upload again even if the registry holds a file for them (the API said it is gone). */
export interface UploadRequestOptions {
  refresh?: ReadonlySet<string>;
}

/** Puts images on the Files API (reusing earlier uploads): the one shape the stages see of `uploadFiles`. */
export type UploadFunction = (candidates: readonly UploadCandidate[], options?: UploadRequestOptions) => Promise<Map<string, UploadOutcome>>;

/** What every uploader shares: the registry, the candidates, how many at once, the clock, and the user's interrupt. */
export interface UploadBatchOptions extends UploadRequestOptions {
  registry: UploadRegistry;
  candidates: readonly UploadCandidate[];
  concurrency: number;
  now: () => number;
  /** Aborted when the user interrupts: uploads not yet started are left for the next run. */
  signal?: AbortSignal;
}

/**
 * Puts each distinct set of bytes up once, wherever `upload` puts it: reuses a registered upload that will outlive
 * the work (and that `isReusable` accepts), uploads the rest with bounded concurrency, and records every upload as
 * soon as it is done, so a crash loses at most the uploads in flight. A failure is that image's outcome, never thrown.
 */
export async function uploadEachOnce(
  options: UploadBatchOptions & { upload: (candidate: UploadCandidate) => Promise<UploadRecord>; isReusable?: (record: UploadRecord, candidate: UploadCandidate) => boolean },
): Promise<Map<string, UploadOutcome>> {
  const distinct = [...new Map(options.candidates.map((candidate) => [candidate.sha256, candidate])).values()];
  const outcomes = await mapWithConcurrency({
    items: distinct,
    concurrency: options.concurrency,
    work: async (candidate): Promise<UploadOutcome> => {
      try {
        const existing = options.refresh?.has(candidate.sha256) ? undefined : options.registry.findUsable({ sha256: candidate.sha256, now: options.now() });
        if (existing && (options.isReusable?.(existing, candidate) ?? true)) return { status: 'uploaded', sha256: candidate.sha256, file: existing, reused: true };
        if (options.signal?.aborted) throw new InterruptedError();
        const record = await options.upload(candidate);
        await options.registry.record(record);
        return { status: 'uploaded', sha256: candidate.sha256, file: record, reused: false };
      } catch (error) {
        return { status: 'failed', sha256: candidate.sha256, error: toGeminiCallError(`upload ${candidate.path}`, error) };
      }
    },
  });
  return new Map(outcomes.map((outcome) => [outcome.sha256, outcome]));
}

/** Puts each distinct set of bytes on the Files API once (uploadEachOnce), retried; a file is reused while far enough from expiry. */
export async function uploadFiles(options: UploadBatchOptions & { client: GoogleGenAI; retry: { policy: RetryPolicy; environment: RetryEnvironment } }): Promise<Map<string, UploadOutcome>> {
  return uploadEachOnce({
    ...options,
    upload: async (candidate) => {
      const file = await callWithRetry({
        operation: `upload ${candidate.displayName ?? candidate.path}`,
        policy: options.retry.policy,
        environment: options.retry.environment,
        call: async () =>
          options.client.files.upload({
            // A Blob, not the path: given a path the SDK sends the file's name in a header, which Node refuses for
            // any character above U+00FF (a Cyrillic or decomposed name would never upload).
            file: await openAsBlob(candidate.path, { type: candidate.mimeType }),
            config: { mimeType: candidate.mimeType, ...(candidate.displayName ? { displayName: candidate.displayName } : {}) },
          }),
      });
      if (!file.name || !file.uri || !file.expirationTime) {
        throw new Error(`the Files API answered without ${!file.name ? 'a name' : !file.uri ? 'a uri' : 'an expirationTime'}`);
      }
      return {
        sha256: candidate.sha256,
        name: file.name,
        uri: file.uri,
        mimeType: file.mimeType ?? candidate.mimeType,
        sizeBytes: Number(file.sizeBytes ?? candidate.sizeBytes),
        expirationTime: file.expirationTime,
      };
    },
  });
}
