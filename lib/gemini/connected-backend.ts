import type { GoogleGenAI } from '@google/genai';
import type { GeminiSettings, GeminiSettingsInput } from '../../schemas/gemini-settings.ts';
import type { RetryPolicy } from './call-with-retry.ts';
import type { ExecutorEnvironment } from './batch-executor.ts';
import type { GeminiConnection } from './create-gemini-client.ts';
import type { GeminiExecutor } from './gemini-executor.ts';
import type { UploadFunction } from './upload-files.ts';
import type { StorageBudget } from './storage-budget.ts';
import type { DeleteUploadsReport } from './delete-uploads.ts';

export type BackendChoice = 'auto' | 'gemini' | 'emulator';

export interface Backend {
  kind: 'gemini' | 'emulator';
  /**
   * Which answers this backend gives, naming its caches and job records in the workspace: `gemini` (the real API),
   * `emulator` (the built-in one), or `endpoint-<hash>` for a CHARGEN_BASE_URL. Answers never cross backends.
   */
  identity: string;
  /** The built-in emulator lives only as long as this process: job records and uploads from an earlier one are void. */
  ephemeral: boolean;
  connection: GeminiConnection;
  client: GoogleGenAI;
  /** Shorter polls against an emulator, whose jobs finish in seconds. */
  settingsOverrides: GeminiSettingsInput;
  close(): Promise<void>;
}

/** Which backend a command uses and why, known without connecting (fingerprints and `status` need it first). */
export interface BackendResolution {
  identity: string;
  /** For people: `the Gemini API`, `the built-in emulator`, or the endpoint's URL. */
  label: string;
  /** Why this one: the key, the setting, or the workspace's memory. */
  reason: string;
  builtIn: boolean;
  /** Absent for the built-in emulator, and for a remembered backend this shell has no key for. */
  connection?: GeminiConnection;
  /** Set when this shell cannot reach the backend: what to set. Connecting throws it. */
  unavailable?: string;
}

/** A backend with what the stages need of it: an executor, uploads, and the folder its answers are kept in. */
export interface ConnectedBackend {
  backend: Backend;
  settings: GeminiSettings;
  /** `<workspace>/backends/<identity>`: result caches, job records, uploads and blobs of this backend. */
  stateDirectory: string;
  executor: GeminiExecutor;
  upload: UploadFunction;
  /** The bytes of images the run may hold on the Files API at once (gemini.storageBudgetBytes). */
  storage: StorageBudget;
  /** Deletes the uploads of these bytes (by sha256; every one held when none are named): no pending job needs them. */
  releaseUploads(sha256s?: Iterable<string>): Promise<DeleteUploadsReport>;
  /** How this backend's calls are retried (for the calls the commands make themselves: list, cancel, delete). */
  retry: { policy: RetryPolicy; environment: ExecutorEnvironment };
}

export type { UploadFunction };

