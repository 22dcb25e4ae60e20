/**
 * One error path. Every failure chargen reports is a ChargenError with a stable `code` from `errorCodes`, each code of
 * one kind (what the user does about it), and `exitCodeFor` is the one place a failure or an outcome becomes an exit
 * code: the table of README.md "Exit codes" and `chargen --help`, which is the contract.
 */

/** The exit codes, as the README and `--help` list them. */
export const exitCodes = { done: 0, error: 1, usage: 2, deadLettered: 3, pending: 4 } as const;
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/**
 * What kind of failure a code is. usage, config, input, workspace: fix the command, the config, the input folder or
 * the workspace (exit 2). gemini: the API answered, with a failure, beyond retries; transient: no answer at all;
 * system: this machine refused (a port taken); internal: chargen's own mistake (exit 1). resumable: stopped with
 * everything saved, the next run goes on (exit 4).
 */
export const errorKinds = ['usage', 'config', 'input', 'workspace', 'gemini', 'transient', 'system', 'internal', 'resumable'] as const;
export type ErrorKind = (typeof errorKinds)[number];

/** Every error code chargen reports, with its kind. */
export const errorCodes = {
  usage: 'usage',
  'confirmation-needed': 'usage',
  forbidden: 'usage',
  'not-found': 'usage',
  'config-invalid': 'config',
  'missing-api-key': 'config',
  'template-invalid': 'config',
  'model-not-served': 'config',
  'cassette-invalid': 'config',
  'input-invalid': 'input',
  'workspace-file-invalid': 'workspace',
  'workspace-missing': 'workspace',
  'workspace-locked': 'workspace',
  'checkpoint-missing': 'workspace',
  'gemini-call-failed': 'gemini',
  'download-failed': 'gemini',
  'api-unreachable': 'transient',
  'listen-failed': 'system',
  'disk-full': 'system',
  'plan-missing': 'internal',
  'schema-conversion-failed': 'internal',
  internal: 'internal',
  'jobs-pending': 'resumable',
  interrupted: 'resumable',
} as const satisfies Record<string, ErrorKind>;
export type ErrorCode = keyof typeof errorCodes;

const exitCodeByKind: Record<ErrorKind, ExitCode> = {
  usage: exitCodes.usage,
  config: exitCodes.usage,
  input: exitCodes.usage,
  workspace: exitCodes.usage,
  gemini: exitCodes.error,
  transient: exitCodes.error,
  system: exitCodes.error,
  internal: exitCodes.error,
  resumable: exitCodes.pending,
};

/**
 * How a command ended without a failure: `done` (for `emulator` and `ui`, stopped by the user), `planned` (a dry
 * run), `declined` (a spend refused at the prompt), `dead-lettered` (done, but some items failed), `pending` (jobs
 * still running), `interrupted` (stopped, state saved), `checks-failed` (`doctor`: an item failed).
 */
export const outcomeStatuses = ['done', 'planned', 'declined', 'dead-lettered', 'pending', 'interrupted', 'checks-failed'] as const;
export type OutcomeStatus = (typeof outcomeStatuses)[number];

const exitCodeByOutcome: Record<OutcomeStatus, ExitCode> = {
  done: exitCodes.done,
  planned: exitCodes.done,
  declined: exitCodes.error,
  'dead-lettered': exitCodes.deadLettered,
  pending: exitCodes.pending,
  interrupted: exitCodes.pending,
  'checks-failed': exitCodes.usage,
};

/** Pure: the kind of an error code. */
export function kindOf(code: ErrorCode): ErrorKind {
  return errorCodes[code];
}

/**
 * Pure: the one mapping to exit codes, of an outcome (by its `status`) or of a failure (by its code's kind; anything
 * that is no ChargenError is an internal error, exit 1).
 */
export function exitCodeFor(subject: { readonly status: OutcomeStatus } | Error): ExitCode {
  if (subject instanceof ChargenError) return exitCodeByKind[kindOf(subject.code)];
  if (subject instanceof Error) return exitCodeByKind.internal;
  return exitCodeByOutcome[subject.status];
}

/** The base of every error class: a stable `code`, whether trying again could help, and the underlying `cause`. */
export class ChargenError extends Error {
  readonly code: ErrorCode;
  readonly isRetryable: boolean;

  constructor(options: { code: ErrorCode; message: string; isRetryable?: boolean; cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.isRetryable = options.isRetryable ?? false;
  }
}

/** No API key in this shell for a backend that needs one; the message says what to set (by default, the key itself). */
export class MissingApiKeyError extends ChargenError {
  constructor(options: { message?: string } = {}) {
    super({
      code: 'missing-api-key',
      message:
        options.message ??
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
  /** What is wrong with the file, without its path or the fix (for a caller that words the fix itself). */
  readonly problem: string;

  constructor(options: { path: string; problem: string; fix: string; cause?: unknown }) {
    super({ code: 'workspace-file-invalid', message: `${options.path}: ${options.problem}. ${options.fix}`, cause: options.cause });
    this.path = options.path;
    this.problem = options.problem;
  }
}

export class DownloadError extends ChargenError {
  readonly fileName: string;

  constructor(options: { fileName: string; message: string; isRetryable?: boolean; cause?: unknown }) {
    super({ code: 'download-failed', message: `download of ${options.fileName}: ${options.message}`, isRetryable: options.isRetryable ?? true, cause: options.cause });
    this.fileName = options.fileName;
  }
}

/** Not room enough on disk for a result file, even with every other download read and deleted: one line, with what and where. */
export class DiskFullError extends ChargenError {
  readonly directory: string;
  readonly neededBytes: number;

  constructor(options: { directory: string; neededBytes: number; freeBytes: number; fileName: string }) {
    const megabytes = (bytes: number) =>
      bytes >= 1_000_000 ? `${(bytes / 1_000_000).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} MB` : `${bytes.toLocaleString('en-US')} bytes`;
    super({
      code: 'disk-full',
      message: `Not enough disk space in ${options.directory} for ${options.fileName}: it needs ${megabytes(options.neededBytes)}, ${megabytes(options.freeBytes)} are free. Free some space there, then run again (finished work is kept).`,
    });
    this.directory = options.directory;
    this.neededBytes = options.neededBytes;
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
