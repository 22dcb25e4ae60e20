import type { ChargenConfig } from '../schemas/chargen-config.ts';
import type { ExecutorEnvironment } from '../lib/gemini/batch-executor.ts';
import type { BackendResolution, ConnectedBackend } from '../lib/gemini/connected-backend.ts';
import type { ExecuteReport } from '../lib/gemini/gemini-executor.ts';
import type { Logger } from '../lib/logger.ts';
import type { Workspace } from '../lib/store/open-workspace.ts';
import type { InputListing } from './analyze/list-input-folder.ts';

/**
 * What a stage's step reads of the run it is part of: the settings, the folders, the workspace and the backend, on
 * demand. The runner (pipeline/) builds it; the stages see only this.
 */
export interface StageContext {
  cwd: string;
  config: ChargenConfig;
  logger: Logger;
  workspace: Workspace;
  environment: ExecutorEnvironment;
  signal: AbortSignal;
  codeVersion: string;
  /** Which backend answers (see Backend.identity); part of every fingerprint. */
  backendIdentity: string;
  /** That backend, how to name it to people, and why it is the one (the key, the setting, the workspace's memory). */
  backend: BackendResolution;
  inputDirectory: string;
  outputDirectory: string;
  /** Executor reports per stage, for the summary. */
  reports: Map<string, ExecuteReport>;
  /** The input folder's listing, scanned once per run: analyze's fingerprint, the plan and the analysis share it. */
  listInput(): Promise<InputListing>;
  /** Connects on first use: a run whose stages are all up to date never starts the emulator or touches the API. */
  connect(): Promise<ConnectedBackend>;
}
