import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BatchStore, BatchTimings } from './batch-store.ts';
import type { OffsetClock } from './clock.ts';
import type { EmulatorOptions } from './emulator-options.ts';
import type { EndpointName } from './fault-config.ts';
import type { FaultInjector } from './fault-injector.ts';
import type { FileStore } from './file-store.ts';
import type { ObjectStore } from './storage/object-store.ts';
import type { UploadSessions } from './storage/upload-sessions.ts';

export interface EmulatorStats {
  uploads: number;
  /** Uploads refused at finalize for their MIME type (nothing stored). */
  uploadsRefused: number;
  uploadedBytes: number;
  /**
   * Bytes of uploaded files not deleted yet, and the most held at once: what counts against a project's Files API
   * storage (20 GB). Expired files count until deleted (48 h on the real API, longer than any run measured here).
   */
  uploadedBytesHeld: number;
  peakUploadedBytesHeld: number;
  batchesCreated: number;
  batchesCancelled: number;
  batchesDeleted: number;
  generateContentCalls: number;
  /** Every request line answered, batch or sync, success or error. */
  requestsByModel: Record<string, number>;
  downloads: number;
  filesDeleted: number;
  /** Cloud Storage: objects written by clients (request files, references), and `alt=media` reads of objects. */
  objectsWritten: number;
  objectDownloads: number;
}

export function createEmptyStats(): EmulatorStats {
  return {
    uploads: 0,
    uploadsRefused: 0,
    uploadedBytes: 0,
    uploadedBytesHeld: 0,
    peakUploadedBytesHeld: 0,
    batchesCreated: 0,
    batchesCancelled: 0,
    batchesDeleted: 0,
    generateContentCalls: 0,
    requestsByModel: {},
    downloads: 0,
    filesDeleted: 0,
    objectsWritten: 0,
    objectDownloads: 0,
  };
}

/** Everything a route needs; one per emulator instance, never module-level. */
export interface EmulatorContext {
  options: EmulatorOptions;
  clock: OffsetClock;
  files: FileStore;
  /** Cloud Storage (the JSON API, for the Vertex AI backend): objects and resumable upload sessions. */
  storage: { objects: ObjectStore; uploads: UploadSessions };
  batches: BatchStore;
  /** Vertex AI batch prediction jobs: the same clock-driven jobs, in a store of their own (their own list). */
  predictionJobs: BatchStore;
  faults: FaultInjector;
  stats: EmulatorStats;
  generateId: (length: number) => string;
  sleep: (milliseconds: number) => Promise<void>;
  timings: () => BatchTimings;
  /** Batch work under way (including jobs already deleted), so reset and close wait for all of it. */
  activeWork: Set<Promise<void>>;
  /** Longest time a poll waits for a due job's last lines before answering RUNNING. */
  pollWaitMilliseconds: number;
  /** On a real clock, moves jobs along after this long even if no one asks (answering lines starts at RUNNING). */
  scheduleAdvance: (milliseconds: number) => void;
}

/** The API versions served: the SDK 2.x's v1beta and 3.x's v1 (the first capture group of every API route). */
export const versionPattern = '(v1|v1beta)';

export interface RouteInput {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  /** `v1beta` or `v1`, as the path said. */
  version: string;
  parameters: Record<string, string>;
  /** `http://host:port` as the client addressed us, for the URIs we hand out. */
  origin: string;
}

export interface Route {
  method: string;
  pattern: RegExp;
  endpoint?: EndpointName;
  /** Admin routes are keyless; every API route checks the key first, as the real API does. */
  requiresKey: boolean;
  handle(context: EmulatorContext, input: RouteInput): Promise<void>;
}

export function countModelRequest(stats: EmulatorStats, model: string): void {
  stats.requestsByModel[model] = (stats.requestsByModel[model] ?? 0) + 1;
}
