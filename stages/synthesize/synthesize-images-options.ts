import type { StageChunking } from '../../lib/gemini/run-chunks-within-budget.ts';
import type { ConnectedBackend } from '../../lib/gemini/connected-backend.ts';
import { createStreamingResultReader } from '../../lib/gemini/stream-result-lines.ts';
import type { UploadFunction } from '../../lib/gemini/upload-files.ts';
import { storedAnswersDirectory } from '../../lib/store/stored-answers.ts';
import type { ExecuteReport, GeminiExecutor } from '../../lib/gemini/gemini-executor.ts';
import type { ResultLineReader } from '../../lib/gemini/read-result-lines.ts';
import type { Logger } from '../../lib/logger.ts';
import type { AnalysisRecord } from '../../schemas/analysis.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import type { SynthesizeSettings } from '../../schemas/synthesize-settings.ts';

export interface SynthesizeOutput {
  sourcePath: string;
  variant: number;
  key: string;
  image: string;
  sidecar: string;
  /** `unchanged`: the image from an earlier run is still current, nothing was asked or written. */
  status: 'written' | 'unchanged';
}

export interface SynthesizeFailure {
  sourcePath: string;
  variant: number;
  /** The named shot, for messages (a shot is known by its name). */
  shot?: string;
  key: string;
  reason: string;
  /** Whether running again could help (a policy block will not). */
  retryable: boolean;
  fix: string;
}

export interface SynthesizeResult {
  outputs: SynthesizeOutput[];
  failures: SynthesizeFailure[];
  warnings: string[];
  report: Pick<ExecuteReport, 'cachedKeys' | 'sentLines' | 'jobsCreated' | 'jobsAdopted'> & { requests: number };
}

/** The backend the images are asked of, and where its answers are kept. */
export interface SynthesisBackend {
  /** Names the backend in each sidecar; an output made by another backend is not current. */
  identity: string;
  upload: UploadFunction;
  executor: GeminiExecutor;
  /** Reads batch result files streaming their images into a blob folder (given that folder). */
  createResultReader: (blobDirectory: string) => ResultLineReader;
  /** The store of received images and signatures, by sha256 (the backend's part of the workspace); kept, never swept. */
  blobDirectory: string;
}

/** The synthesis's view of a run's connected backend: the step and the chunks flow both draw through it. */
export function toSynthesisBackend(backend: ConnectedBackend): SynthesisBackend {
  return {
    identity: backend.backend.identity,
    upload: backend.upload,
    executor: backend.executor,
    createResultReader: (blobDirectory) => createStreamingResultReader({ blobDirectory }),
    blobDirectory: storedAnswersDirectory(backend.stateDirectory),
  };
}

/** The folders a synthesis reads and writes. */
export interface SynthesisFolders {
  /** Where the source images are, for prompts that send theirs as a reference. */
  input: string;
  output: string;
  /** The workspace: the names given to outputs are kept there. */
  workspace: string;
}

/** What synthesizeImages works on (the prompts, their records, the settings), where, and with which backend. */
export interface SynthesizeImagesOptions {
  prompts: readonly GenerationPrompt[];
  /** Analysis records by source path, copied into each sidecar. */
  records: ReadonlyMap<string, AnalysisRecord>;
  settings: SynthesizeSettings;
  folders: SynthesisFolders;
  backend: SynthesisBackend;
  logger: Logger;
  /**
   * The executor's stage (its jobs, cache and dead letters): `sheet` for turnaround sheets, `regenerate` for the
   * images the artist asks again from `chargen ui`; `synthesize` when unset.
   */
  stage?: 'synthesize' | 'sheet' | 'regenerate';
  /** An output changed by hand in the output folder is kept as it is, never made again (turnaround sheets). */
  keepEdited?: boolean;
  /**
   * The characters' prompts cut into chunks whose references fit the Files API budget, each chunk's uploads deleted
   * once its jobs are done (the stage run on its own); one chunk of everything when absent.
   */
  chunking?: StageChunking;
}
