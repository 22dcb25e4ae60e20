/**
 * One error base class: every failure chargen reports carries a stable `code`, structured fields, whether trying
 * again could help, and the underlying `cause`. Messages name the file or field, what was expected, and the fix.
 */
export class ChargenError extends Error {
  readonly code: string;
  readonly isRetryable: boolean;

  constructor(options: { code: string; message: string; isRetryable?: boolean; cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.isRetryable = options.isRetryable ?? false;
  }
}

export class MissingApiKeyError extends ChargenError {
  constructor() {
    super({
      code: 'missing-api-key',
      message:
        'No Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment or in a .env file in this folder. ' +
        'Get a key at https://aistudio.google.com/apikey. To try chargen without a key, use --backend emulator.',
    });
  }
}

/** A call to the Gemini API that failed; `status` is the HTTP status when there was an answer at all. */
export class GeminiCallError extends ChargenError {
  readonly status: number | undefined;
  readonly operation: string;
  /** How long the server asked us to wait (RetryInfo), when it said. */
  readonly retryDelayMilliseconds: number | undefined;

  constructor(options: {
    operation: string;
    status: number | undefined;
    message: string;
    isRetryable: boolean;
    retryDelayMilliseconds?: number;
    cause?: unknown;
  }) {
    super({ code: 'gemini-call-failed', message: `${options.operation}: ${options.message}`, isRetryable: options.isRetryable, cause: options.cause });
    this.status = options.status;
    this.operation = options.operation;
    this.retryDelayMilliseconds = options.retryDelayMilliseconds;
  }
}

/** A durable workspace file that is missing, unreadable or fails validation. */
export class WorkspaceFileError extends ChargenError {
  readonly path: string;

  constructor(options: { path: string; problem: string; fix: string; cause?: unknown }) {
    super({ code: 'workspace-file-invalid', message: `${options.path}: ${options.problem}. ${options.fix}`, cause: options.cause });
    this.path = options.path;
  }
}

export class DownloadError extends ChargenError {
  readonly fileName: string;

  constructor(options: { fileName: string; message: string; isRetryable?: boolean; cause?: unknown }) {
    super({ code: 'download-failed', message: `download of ${options.fileName}: ${options.message}`, isRetryable: options.isRetryable ?? true, cause: options.cause });
    this.fileName = options.fileName;
  }
}

/** The configuration (file, environment or flags) does not validate; every problem is listed, each with its source. */
export class ConfigError extends ChargenError {
  readonly problems: string[];

  constructor(options: { problems: string[]; cause?: unknown }) {
    super({ code: 'config-invalid', message: `Invalid configuration:\n${options.problems.map((problem) => `  - ${problem}`).join('\n')}`, cause: options.cause });
    this.problems = options.problems;
  }
}

/** A stage asked to run alone whose upstream checkpoint is missing or out of date. */
export class CheckpointError extends ChargenError {
  constructor(options: { message: string }) {
    super({ code: 'checkpoint-missing', message: options.message });
  }
}

/** Another chargen process holds the workspace. */
export class WorkspaceLockedError extends ChargenError {
  constructor(options: { message: string }) {
    super({ code: 'workspace-locked', message: options.message });
  }
}

/** The user interrupted the run; state was saved. */
export class InterruptedError extends ChargenError {
  constructor() {
    super({ code: 'interrupted', message: 'Interrupted.' });
  }
}

/** A request that cannot be carried out as asked (flags that do not fit together, say): exit 2. */
export class UsageError extends ChargenError {
  constructor(options: { message: string }) {
    super({ code: 'usage', message: options.message });
  }
}

/** The folder named as the workspace has none: nothing was run there yet, or --workdir points elsewhere. */
export class WorkspaceMissingError extends ChargenError {
  readonly directory: string;

  constructor(options: { directory: string }) {
    super({ code: 'workspace-missing', message: `No chargen workspace at ${options.directory}: run \`chargen run\` first, or point --workdir at the workspace.` });
    this.directory = options.directory;
  }
}

/** No answer at all from the API's host (no network, a closed port, a name that does not resolve): one line, exit 1. */
export class ApiUnreachableError extends ChargenError {
  readonly host: string;

  constructor(options: { host: string; detail: string; advice: string; cause?: unknown }) {
    super({ code: 'api-unreachable', message: `Cannot reach ${options.host} (${options.detail}). ${options.advice}`, isRetryable: true, cause: options.cause });
    this.host = options.host;
  }
}

/** Jobs were left running (`--detach`); the next `run` or `status` picks them up. */
export class JobsPendingError extends ChargenError {
  readonly stage: string;
  readonly pendingJobs: number;

  constructor(options: { stage: string; pendingJobs: number }) {
    super({ code: 'jobs-pending', message: `${options.stage}: ${options.pendingJobs} batch job${options.pendingJobs === 1 ? '' : 's'} still running` });
    this.stage = options.stage;
    this.pendingJobs = options.pendingJobs;
  }
}
