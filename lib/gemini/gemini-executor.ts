import type { LineOutcome, RequestLine, ResponseValidator } from './line-outcome.ts';
import type { ResultLineReader } from './read-result-lines.ts';

export interface ExecuteOptions {
  /** Names the workspace's caches and job records: `analyze`, `synthesize`. */
  stage: string;
  model: string;
  lines: readonly RequestLine[];
  /** The stage's check of an answer (e.g. JSON under the schema); a rejected answer is a failure. */
  validate?: ResponseValidator;
  /** How batch result files are read (default: line by line); the image stage streams images to disk with its own. */
  readResults?: ResultLineReader;
  /** Applied to a generateContent answer before it is judged and cached: the image stage moves base64 out to files. */
  prepareResponse?: (response: Record<string, unknown>) => Promise<Record<string, unknown>>;
  /** Whether a cached success can still be used (its image file may be gone); an unusable one is asked again. */
  isCachedUsable?: (outcome: LineOutcome) => Promise<boolean>;
  /** Submit (or look at) the jobs once and return without waiting; their keys are left out of the outcomes. */
  detach?: boolean;
}

export interface ExecuteReport {
  /** One outcome per distinct key: succeeded, or failed with its reason (dead-lettered). */
  outcomes: Map<string, LineOutcome>;
  /** Keys answered from the workspace's cache, with no request sent. */
  cachedKeys: number;
  /** Request lines sent to the API in this call, retries included. */
  sentLines: number;
  /** Batch jobs created (0 in sync mode) and adopted after a crash. */
  jobsCreated: number;
  jobsAdopted: number;
  /** Jobs left running (detach): their keys have no outcome yet; the next run picks the jobs up. */
  pendingJobs: number;
}

/** The one interface both model stages use; `--mode` picks the batch or the sync executor behind it. */
export interface GeminiExecutor {
  execute(options: ExecuteOptions): Promise<ExecuteReport>;
  /**
   * Of these keys, the ones answered already (in the workspace's cache): a stage need not upload what their requests
   * point at. Absent on an executor that cannot tell, where everything is uploaded as before.
   */
  findAnswered?(options: { stage: string; keys: Iterable<string> }): Promise<Set<string>>;
}
