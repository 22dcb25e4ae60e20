import type { Backend, BackendChoice } from '../../lib/gemini/connected-backend.ts';
import type { RetryEnvironment, RetryPolicy } from '../../lib/gemini/call-with-retry.ts';
import type { Logger } from '../../lib/logger.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import type { GeminiSettings } from '../../schemas/gemini-settings.ts';

/** What every check works with: the connected backend, the config (its models as written) and the retry policy. */
export interface DoctorContext {
  backend: Backend;
  choice: BackendChoice;
  /** The config, with the models as the file names them, even ids the config check refused (they are asked here). */
  config: ChargenConfig;
  settings: GeminiSettings;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
  /** The workspace in `workdir`, when there is one: its id names the probe's job, its backend folder holds the MIME type that worked. */
  workspace: { id: string; stateDirectory: string } | undefined;
  logger: Logger;
}
