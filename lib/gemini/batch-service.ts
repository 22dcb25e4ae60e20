import type { JobRecord } from './job-record.ts';
import type { ResultFileSlot } from './result-file-gate.ts';
import type { WorkspaceJob } from './workspace-jobs.ts';

/** How a request file's upload ended: where a job reads it from, or why the service would not take it. */
export type RequestFileUpload = { status: 'uploaded'; inputName: string } | { status: 'refused'; reason: string; fix: string };

/** A batch job as the executor follows it: its state (`JOB_STATE_*`) and, once it has one, where its results are. */
export interface ServedJob {
  state: string;
  /** A Files API name (`files/batch-…`) on the Gemini API, a `gs://` folder on Vertex AI. */
  resultLocation?: string;
}


/**
 * What the batch executor needs of a batch service, and all it knows of one: the Gemini Developer API (Files API and
 * `batches`) and Vertex AI batch prediction (Cloud Storage and `batchPredictionJobs`) sit behind it. The executor's
 * rules (records written before a job exists, adoption, rounds, stragglers, dead letters) are the same for both.
 * A failed call throws GeminiCallError (status, whether trying again can help), except `createJob`, which throws
 * what the SDK threw: it is never retried blindly, and the executor reads it (toGeminiCallError) to decide.
 */
export interface BatchService {
  /** For messages: `the Files API`, `Cloud Storage`. */
  storageLabel: string;
  /** The line a request file holds for one request: the key where the service brings it back with the answer. */
  formatRequestLine(line: { key: string; request: Record<string, unknown> }): Record<string, unknown>;
  uploadRequestFile(options: { path: string; record: JobRecord }): Promise<RequestFileUpload>;
  /** Deletes a request file no job needs now; one already gone may resolve (Cloud Storage) or throw 403/404 (Files API). */
  deleteRequestFile(options: { inputName: string; record: JobRecord }): Promise<void>;
  /** Creates the job of a record whose request file is uploaded; returns the job's name. Never retried blindly. */
  createJob(record: JobRecord & { inputFileName: string }): Promise<string>;
  /** This workspace's jobs (display names starting with its prefix), every page. */
  listJobs(options: { workspaceId: string }): Promise<WorkspaceJob[]>;
  getJob(jobName: string): Promise<ServedJob>;
  cancelJob(jobName: string): Promise<void>;
  /**
   * Where a service echoes requests instead of returning keys (Vertex AI): a lookup of a job's keys by the content of
   * an echoed request, for lines that came back without the key's labels. Absent where every line carries its key.
   */
  openEchoMatcher?(record: JobRecord): Promise<(request: unknown) => string | undefined>;
  /** Streams a finished job's results into `destination` (one JSONL file), within the room `slot` holds. */
  downloadResults(options: { record: JobRecord; resultLocation: string; destination: string; slot: ResultFileSlot }): Promise<void>;
}
