import type { GoogleGenAI } from '@google/genai';
import type { Storage } from '@google-cloud/storage';
import type { VertexTarget } from '../../schemas/vertex-settings.ts';
import type { GeminiSettings, GeminiSettingsInput } from '../../schemas/gemini-settings.ts';
import type { RetryPolicy } from './call-with-retry.ts';
import type { ExecutorEnvironment } from './batch-executor.ts';
import type { GeminiConnection } from './create-gemini-client.ts';
import type { GeminiExecutor } from './gemini-executor.ts';
import type { UploadFunction } from './upload-files.ts';
import type { StorageBudget } from './storage-budget.ts';
import type { DeleteUploadsReport } from './delete-uploads.ts';

export type BackendChoice = 'auto' | 'gemini' | 'emulator' | 'vertex';

export interface Backend {
  kind: 'gemini' | 'emulator' | 'vertex';
  /**
   * Which answers this backend gives, naming its caches and job records in the workspace: `gemini` (the real API),
   * `emulator` (the built-in one), `endpoint-<hash>` for a CHARGEN_BASE_URL, or `vertex-<hash>` for a Vertex AI
   * project, location, bucket and prefix (and its CHARGEN_BASE_URL, if any). Answers never cross backends.
   */
  identity: string;
  /** The built-in emulator lives only as long as this process: job records and uploads from an earlier one are void. */
  ephemeral: boolean;
  /**
   * The Gemini Developer API's key and base URL, for what calls it outside the SDK (the result file's download). A
   * Vertex backend has no key (it sends OAuth tokens): its `apiKey` is empty and its `baseUrl` is CHARGEN_BASE_URL,
   * if set; nothing of the Developer API's may be called with it (its results are read from Cloud Storage).
   */
  connection: GeminiConnection;
  /** `new GoogleGenAI({ vertexai: true, project, location })` on Vertex AI. */
  client: GoogleGenAI;
  /** Only on Vertex AI: where its jobs run and its files live, and the Cloud Storage client for them. */
  vertex?: { target: VertexTarget; storage: Storage };
  /** Shorter polls against an emulator, whose jobs finish in seconds. */
  settingsOverrides: GeminiSettingsInput;
  close(): Promise<void>;
}

/** Which backend a command uses and why, known without connecting (fingerprints and `status` need it first). */
export interface BackendResolution {
  identity: string;
  /** For people: `the Gemini API`, `the built-in emulator`, the endpoint's URL, or the Vertex AI project, location and bucket. */
  label: string;
  /** Why this one: the key, the setting, or the workspace's memory. */
  reason: string;
  builtIn: boolean;
  /**
   * The Gemini Developer API's key and base URL; absent for the built-in emulator, for a remembered backend this shell
   * has no key for, and for Vertex AI (which has no key: the UI then looks up no job's state of its own).
   */
  connection?: GeminiConnection;
  /** Only for Vertex AI: where its jobs run and its files live. */
  vertex?: VertexTarget;
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

